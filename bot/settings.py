"""Configuration read from the environment, with embedded defaults (SQLite files under var/)."""
from __future__ import annotations

import os

from bot.paths import BUILD_DIR, VAR_DIR


def database_url() -> str:
    """The clinic's database: conversation log (Rasa tracker store), escalations, staff tables.

    Set CLINIC_DATABASE_URL to e.g. postgresql://user:pass@localhost:5432/clinic for PostgreSQL.
    """
    return os.environ.get("CLINIC_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'clinic.db'}"


def knowledge_database_url() -> str:
    """The knowledge base built from knowledge/sources and knowledge/cards (rebuilt by `make kb`)."""
    return os.environ.get("CLINIC_KB_DATABASE_URL") or f"sqlite:///{BUILD_DIR / 'knowledge.db'}"


def redis_url() -> str | None:
    """A Redis URL for Rasa's lock store when several Rasa servers share one tracker store (optional)."""
    return os.environ.get("CLINIC_REDIS_URL") or None


def action_timeout() -> float:
    """Seconds the Rasa server waits for one action server call before it apologises instead
    (CLINIC_ACTION_TIMEOUT, default 5; bot/server/action_timeout.py)."""
    return _positive_float("CLINIC_ACTION_TIMEOUT", 5.0)


def action_retry_after() -> float:
    """Seconds the Rasa server stops calling an action server that timed out or refused the connection, answering
    at once with the apology, before it tries again (CLINIC_ACTION_RETRY_AFTER, default 5)."""
    return _positive_float("CLINIC_ACTION_RETRY_AFTER", 5.0)


def _positive_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected a number of seconds, e.g. {default:g}") from None
    if value <= 0:
        raise ValueError(f"{name}={raw!r}: must be more than 0 seconds")
    return value
