"""Schema migrations (Alembic) for the clinic's own tables: the staff console's, the escalations table and the
channel connectors' (webhook deliveries, outgoing messages).

`upgrade(url)` brings a database to the newest revision. The staff console runs it on first use of a database
in each process (bot/staff/db.py), and `python -m bot staff migrate` runs it by hand (for deployments that
migrate before starting anything). Rasa's own `events` table is Rasa's, and never touched here.

A database made before migrations existed (tables created by SQLAlchemy's create_all) is adopted: the
baseline revision creates only the tables that are missing, so the first upgrade just records it.
"""
from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent
# The tables these migrations own. A new table of the clinic's comes with a revision and its name here
# (tests/staff/test_migrations.py checks the migrated schema matches the models for these tables).
MIGRATED_TABLES = frozenset({
    "escalations", "staff_users", "staff_summary_state", "conversation_summaries", "conversation_topics",
    "conversation_search", "staff_low_confidence_messages", "staff_reviews", "staff_tags",
    "staff_message_labels", "staff_audit_log", "handoffs", "escalation_alerts", "answer_feedback",
    "webhook_deliveries", "channel_messages",
})

_lock = threading.Lock()


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic configuration for this folder; with an engine, env.py migrates that database."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("path_separator", "os")
    config.attributes["engine"] = engine
    return config


def head() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` (default: the newest). Safe to call again: nothing left to do is quick."""
    with _lock:
        command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with _lock:
        command.downgrade(alembic_config(engine), revision)
