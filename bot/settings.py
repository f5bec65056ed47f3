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
