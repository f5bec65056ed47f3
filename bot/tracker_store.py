"""Rasa's SQLTrackerStore pointed at the clinic database URL (SQLite file by default, PostgreSQL by env).

Three measured savings over the stock store, same rows and same trackers (tests/unit/test_tracker_store.py):
- save() knows how many of the tracker's events are already stored when the tracker came from retrieve() or
  an earlier save() of this store, so it skips Rasa's `SELECT count(*)` of the session's events per save;
  a tracker built elsewhere (a new conversation, capped history) still gets Rasa's count. (It also stops
  Rasa's store from writing the old session a second time when one tracker object is saved twice after a
  new session start: Rasa's count then starts at the new session.)
- retrieve() reads only the `data` column, in two index-backed queries: the latest `session_started`
  timestamp, then the events from it on (Rasa's own filter: timestamp >= session start), ordered by id.
- one composite index, (sender_id, type_name, timestamp), serves the session-start lookup; it is created
  if missing, next to Rasa's own create_all of the table.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import make_url

from bot.settings import database_url

logger = logging.getLogger(__name__)

# How many of a tracker's events (counted from the start of its `events`) are already in the table.
STORED_ATTRIBUTE = "_clinic_stored_events"
SESSION_INDEX = "ix_events_sender_type_timestamp"


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
        self._ensure_session_index()

    def _ensure_session_index(self) -> None:
        # plain DDL, not an sa.Index on Rasa's shared table metadata (that would change Rasa's own create_all)
        statement = sa.text(f"CREATE INDEX IF NOT EXISTS {SESSION_INDEX} ON events (sender_id, type_name, timestamp)")
        try:
            with self.engine.begin() as connection:
                connection.execute(statement)
        except (sa.exc.OperationalError, sa.exc.ProgrammingError, sa.exc.IntegrityError) as error:
            # several Rasa servers starting at once may race to create it; one of them wins
            logger.warning("index %s not created here (another server may have made it): %s", SESSION_INDEX, error)

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool
                        ) -> DialogueStateTracker | None:
        events_table = self.SQLEvent.__table__
        with self.session_scope() as session:
            query = sa.select(events_table.c.data).where(events_table.c.sender_id == sender_id)
            if not fetch_events_from_all_sessions:
                session_start = session.execute(
                    sa.select(sa.func.max(events_table.c.timestamp)).where(
                        events_table.c.sender_id == sender_id,
                        events_table.c.type_name == SessionStarted.type_name)).scalar()
                if session_start is not None:
                    query = query.where(events_table.c.timestamp >= session_start)
            rows = session.execute(query.order_by(events_table.c.id)).scalars().all()
        if not self.domain or not rows:
            logger.debug("no stored tracker for sender id '%s'", sender_id)
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, [json.loads(data) for data in rows],
                                                 self.domain.slots)
        if not fetch_events_from_all_sessions:
            _remember_stored(tracker, len(rows))
        return tracker

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        stored = getattr(tracker, STORED_ATTRIBUTE, None)
        if stored is None or tracker.events.maxlen is not None:
            return super()._additional_events(session, tracker)
        return (event for position, event in enumerate(tracker.events) if position >= stored)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save; afterwards the tracker remembers that all its events are stored."""
        await super().save(tracker)
        # Exact even after a new session start, where Rasa's count (events since the latest stored session
        # start) would point into the old session and store it a second time if this object is saved again.
        _remember_stored(tracker, len(tracker.events))


def _remember_stored(tracker: DialogueStateTracker, count: int) -> None:
    setattr(tracker, STORED_ATTRIBUTE, count)
