"""SQLAlchemy engine and session for the clinic's own tables (SQLite by default, PostgreSQL by URL)."""
from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, declarative_base, sessionmaker

from bot.settings import database_url

Base = declarative_base()


def make_engine(url: str) -> Engine:
    """An engine for url; for SQLite, create the folder and wait on locks rather than failing."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, future=True, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # noqa: ANN001 - DB-API objects
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")  # readers (staff console) never block the bot
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, future=True, pool_pre_ping=True)


@cache
def engine_for(url: str) -> Engine:
    """One engine per URL per process."""
    return make_engine(url)


# engine -> how many model tables existed when create_all last ran on it (once per engine, again only when a
# model module imported later adds tables); create_all per call cost ~9 ms a message (bench/run.py --profile)
_created: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()


def clinic_engine() -> Engine:
    """The engine of the clinic database, with every table of the clinic's models created."""
    engine = engine_for(database_url())
    tables = len(Base.metadata.tables)
    if _created.get(engine) != tables:
        Base.metadata.create_all(engine)
        _created[engine] = tables
    return engine


@contextmanager
def clinic_session() -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = sessionmaker(bind=clinic_engine(), future=True, expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
