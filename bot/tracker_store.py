"""Rasa's SQLTrackerStore pointed at the clinic database URL (SQLite file by default, PostgreSQL by env)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy.engine import make_url

from bot.settings import database_url


class ClinicSQLTrackerStore(SQLTrackerStore):
    """The conversation log: every event of every conversation, in the `events` table.

    endpoints.yml names this class; the URL comes from CLINIC_DATABASE_URL (see bot/settings.py), so one
    variable moves the whole bot from the SQLite file in var/ to PostgreSQL.
    """

    def __init__(self, domain: Any = None, host: str | None = None, event_broker: Any = None, **kwargs: Any):
        url = database_url()
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        for unused in ("url", "dialect", "db", "port", "username", "password"):
            kwargs.pop(unused, None)
        super().__init__(domain=domain, dialect=parsed.get_backend_name(), host=url,
                         event_broker=event_broker, **kwargs)
