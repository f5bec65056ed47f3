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
- save() writes the new events with one Core INSERT (executemany) instead of one ORM object per event: the same
  column values Rasa computes (`_event_row`), in the same order, so the same ids.
- SQLite file databases keep their connections in a pool (SQLAlchemy 1.4 opens and closes a connection per
  session for them, and closing the last connection of a WAL database checkpoints it) and run in WAL mode with
  `synchronous=NORMAL`: a commit no longer waits for an fsync. Trade-off: a process crash loses nothing, but
  a power cut or OS crash may lose the last commits (the database stays consistent). Production runs on
  PostgreSQL (docs/scaling.md), where nothing of this applies.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import event as sa_event
from sqlalchemy import pool as sa_pool
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from bot.settings import database_url

logger = logging.getLogger(__name__)

# How many of a tracker's events (counted from the start of its `events`) are already in the table.
STORED_ATTRIBUTE = "_clinic_stored_events"
SESSION_INDEX = "ix_events_sender_type_timestamp"
# per connection of the tracker store's SQLite engine; see the module docstring for the durability trade-off
SQLITE_PRAGMAS = ("PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")


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
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            self._use_pooled_sqlite_engine(url)
        self._ensure_session_index()

    def _use_pooled_sqlite_engine(self, url: str) -> None:
        """Replace Rasa's engine (NullPool for SQLite files in SQLAlchemy 1.4) by a pooled one, WAL mode."""
        engine = sa.create_engine(url, poolclass=sa_pool.QueuePool, connect_args={"check_same_thread": False})

        @sa_event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(pragma)
            cursor.close()

        self.engine.dispose()
        self.engine = engine
        self.sessionmaker = sessionmaker(bind=engine)

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
        """Rasa's save, one INSERT for all new events; afterwards the tracker remembers that they are stored."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = [_event_row(tracker.sender_id, event) for event in self._additional_events(session, tracker)]
            if rows:
                session.execute(self.SQLEvent.__table__.insert(), rows)
            session.commit()
        logger.debug("Tracker with sender_id '%s' stored to database", tracker.sender_id)
        # Exact even after a new session start, where Rasa's count (events since the latest stored session
        # start) would point into the old session and store it a second time if this object is saved again.
        _remember_stored(tracker, len(tracker.events))


def _event_row(sender_id: str, event: Event) -> dict[str, Any]:
    """The column values Rasa's SQLTrackerStore.save writes for one event (Rasa 3.6), computed the same way."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def _remember_stored(tracker: DialogueStateTracker, count: int) -> None:
    setattr(tracker, STORED_ATTRIBUTE, count)
