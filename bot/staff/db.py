"""The console's database handle: the clinic engine, with the console's tables (and `events`) created once."""
from __future__ import annotations

import threading

from sqlalchemy.engine import Engine

import bot.escalations  # noqa: F401 - registers the escalations table on Base
import bot.staff.models  # noqa: F401 - registers the console's tables on Base
from bot.db import Base, engine_for
from bot.settings import database_url
from bot.staff.summaries import ensure_events_table

_prepared: set[str] = set()
_lock = threading.Lock()


def staff_engine(url: str | None = None) -> Engine:
    """The engine for CLINIC_DATABASE_URL (or url), tables created on first use in this process."""
    url = url or database_url()
    engine = engine_for(url)
    if url not in _prepared:
        with _lock:
            if url not in _prepared:
                Base.metadata.create_all(engine)
                ensure_events_table(engine)
                _prepared.add(url)
    return engine


def forget_prepared() -> None:
    """For tests that recreate the database at the same URL."""
    _prepared.clear()
