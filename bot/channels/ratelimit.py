"""Per-sender and per-address rate limits for the channels, with the `limits` library (moving window).

The counters live in Redis when CLINIC_REDIS_URL is set, so every Rasa server behind the load balancer counts
the same sender; otherwise in this process's memory (one server, `make run`). A limit is a `limits` string
such as "20/minute;200/hour"; an empty string switches it off.
"""
from __future__ import annotations

import logging
from functools import lru_cache

import limits
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from bot.channels.settings import redis_url

logger = logging.getLogger(__name__)


@lru_cache(maxsize=4)
def _storage(storage_url: str):  # noqa: ANN202 - a limits storage
    return storage_from_string(storage_url)


@lru_cache(maxsize=4)
def _limiter(storage_url: str) -> MovingWindowRateLimiter:
    # limits 2.x strategies hold only a weak reference to their storage: keep the storage alive (cached above),
    # or it is collected and every check fails with "'NoneType' object has no attribute 'get_moving_window'"
    return MovingWindowRateLimiter(_storage(storage_url))


def limiter() -> MovingWindowRateLimiter:
    return _limiter(redis_url() or "memory://")


@lru_cache(maxsize=32)
def parse(spec: str) -> tuple[limits.RateLimitItem, ...]:
    """'20/minute;200/hour' -> its items; raises ValueError naming the bad value."""
    if not spec.strip():
        return ()
    try:
        return tuple(limits.parse_many(spec))
    except ValueError as error:
        raise ValueError(f"rate limit {spec!r} is not understood: write e.g. '20/minute;200/hour'") from error


def allow(scope: str, key: str, spec: str) -> bool:
    """Count one event for `key` in `scope`; False when any of `spec`'s windows is already full.

    A storage failure (Redis down) lets the message through and is logged: a patient must not lose a reply,
    least of all red-flag advice, because the limiter's store is unreachable.
    """
    items = parse(spec)
    if not items:
        return True
    try:
        strategy = limiter()
        if not all(strategy.test(item, scope, key) for item in items):
            return False
        for item in items:
            strategy.hit(item, scope, key)
        return True
    except Exception as error:  # noqa: BLE001 - fail open, loudly
        logger.error("rate limiter unavailable (%s: %s): message let through", type(error).__name__, error)
        return True


def first_notice(scope: str, key: str) -> bool:
    """True once per minute per key: a limited sender is told once, not once per dropped message."""
    return allow(f"{scope}:notice", key, "1/minute")
