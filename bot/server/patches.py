"""The start-up patches applied to the Rasa server, in order. Each is `module:function`, called once."""
from __future__ import annotations

import importlib
import logging

logger = logging.getLogger(__name__)

# One line per patch; each module's docstring says what Rasa does, why the clinic needs otherwise, and the test.
PATCHES: list[str] = [
    "bot.server.action_validation:apply",
    "bot.server.event_types:apply",
    "bot.server.sparse_features:apply",
    "bot.server.classifier_layout:apply",
    "bot.server.redis_lock:apply",
    "bot.server.action_timeout:apply",
    "bot.server.log_privacy:apply",
    "bot.server.request_limits:apply",
    "bot.server.rest_auth:apply",
    "bot.server.cors:apply",
    "bot.server.handoff_red_flags:apply",
]

_applied: set[str] = set()


def apply_all() -> list[str]:
    """Apply every registered patch once (idempotent); return the names applied."""
    for spec in PATCHES:
        if spec in _applied:
            continue
        module_name, _, function_name = spec.partition(":")
        getattr(importlib.import_module(module_name), function_name)()
        _applied.add(spec)
        logger.debug("start-up patch applied: %s", spec)
    return sorted(_applied)
