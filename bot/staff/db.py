"""The console's database handle: the clinic engine, migrated to the newest schema once per process."""
from __future__ import annotations

import threading

from sqlalchemy.engine import Engine

import bot.escalations  # noqa: F401 - registers the escalations table on Base
import bot.staff.models  # noqa: F401 - registers the console's tables on Base
from bot.db import Base, engine_for
from bot.migrations import upgrade
from bot.settings import database_url
from bot.staff.summaries import ensure_events_table

_prepared: set[str] = set()
_lock = threading.Lock()


def staff_engine(url: str | None = None) -> Engine:
    """The engine for CLINIC_DATABASE_URL (or url), migrated on first use in this process."""
    url = url or database_url()
    engine = engine_for(url)
    if url not in _prepared:
        with _lock:
            if url not in _prepared:
                upgrade(engine)  # the clinic's own tables, through Alembic (bot/migrations/)
                # Tables of other parts that have no revision yet (create_all skips existing ones).
                Base.metadata.create_all(engine)
                ensure_events_table(engine)  # Rasa's table, so the console can read an empty log
                _prepared.add(url)
    return engine


def forget_prepared() -> None:
    """For tests that recreate the database at the same URL."""
    _prepared.clear()
