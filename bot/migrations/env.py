"""Alembic's environment: which database (the engine given, else CLINIC_DATABASE_URL) and which models."""
from __future__ import annotations

from alembic import context
from sqlalchemy import text

import bot.channels.store  # noqa: F401 - the webhook_deliveries and channel_messages tables on Base
import bot.escalations  # noqa: F401 - the escalations table on Base
import bot.feedback  # noqa: F401 - the answer_feedback table on Base
import bot.handoff.store  # noqa: F401 - the handoffs table on Base
import bot.staff.alerts  # noqa: F401 - the escalation_alerts table on Base
import bot.staff.models  # noqa: F401 - the console's tables on Base
from bot.db import Base, engine_for
from bot.migrations import MIGRATED_TABLES
from bot.settings import database_url

config = context.config
# An advisory lock id, so two web workers starting together on PostgreSQL migrate one after the other.
PG_LOCK_ID = 742_913_118


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001, ANN201 - Alembic's hook
    """Only the clinic's migrated tables: never Rasa's `events`, never another part's tables."""
    table = obj if type_ == "table" else getattr(obj, "table", None)
    table_name = name if type_ == "table" else getattr(table, "name", None)
    return table_name in MIGRATED_TABLES


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or engine_for(database_url())
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": PG_LOCK_ID})
            connection.commit()
        try:
            context.configure(connection=connection, target_metadata=Base.metadata, include_object=include_object,
                              render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": PG_LOCK_ID})
                connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not set up: run `python -m bot staff migrate` instead")
run_migrations_online()
