"""The connectors' two tables in the clinic database: webhook deliveries seen (de-duplication) and outgoing
messages with their delivery status (failures, and the platforms' status callbacks).

Both live in the database every Rasa server shares (CLINIC_DATABASE_URL), never in process memory, so a
notification re-delivered to another server behind the load balancer is still recognised.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import Column, DateTime, Integer, String, UniqueConstraint, delete, insert, select
from sqlalchemy.engine import Engine

from bot.channels.settings import dedup_days
from bot.db import Base

logger = logging.getLogger(__name__)
ERROR_CHARS = 300
PRUNE_EVERY = 600.0  # seconds between clean-ups of old delivery ids, per process


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class WebhookDelivery(Base):
    """One platform message id seen on one channel: Telegram update_id, Twilio MessageSid, Meta message id."""

    __tablename__ = "webhook_deliveries"
    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    delivery_id = Column(String(255), nullable=False)
    received_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    __table_args__ = (UniqueConstraint("channel", "delivery_id", name="uq_webhook_deliveries_channel_id"),)


class OutgoingMessage(Base):
    """A message the bot sent (or failed to send) on a platform, with the latest delivery status."""

    __tablename__ = "channel_messages"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(32), nullable=False)
    platform_message_id = Column(String(255), nullable=True, index=True)
    status = Column(String(32), nullable=False)        # sent | failed | delivered | read | undelivered ...
    urgent_level = Column(String(32), nullable=True)   # emergency | same_day when the message was urgent advice
    attempts = Column(Integer, nullable=False, default=1)
    error = Column(String(ERROR_CHARS), nullable=True)  # the platform's error, never the message text
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


FAILED_STATUSES = {"failed", "undelivered"}
_pruned_at = 0.0
_prune_lock = threading.Lock()


_created: set[str] = set()


def _engine() -> Engine:
    """The clinic database, with these two tables created once per process (not a create_all per message)."""
    from bot.db import engine_for
    from bot.settings import database_url

    url = database_url()
    engine = engine_for(url)
    if url not in _created:
        Base.metadata.create_all(engine, tables=[WebhookDelivery.__table__, OutgoingMessage.__table__])
        _created.add(url)
    return engine


def _insert_ignoring_duplicates(engine: Engine):
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL; a plain INSERT elsewhere."""
    table = WebhookDelivery.__table__
    backend = engine.dialect.name
    if backend == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif backend == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        return insert(table)
    return dialect_insert(table).on_conflict_do_nothing(index_elements=["channel", "delivery_id"])


def claim_delivery(channel: str, delivery_id: str, engine: Engine | None = None) -> bool:
    """True the first time (channel, delivery_id) is seen by any server; False for a re-delivery.

    The unique constraint decides: of two servers inserting the same id at once, exactly one inserts a row.
    """
    from sqlalchemy.exc import IntegrityError

    engine = engine or _engine()
    _maybe_prune(engine)
    statement = _insert_ignoring_duplicates(engine).values(
        channel=channel[:32], delivery_id=str(delivery_id)[:255], received_at=utcnow())
    try:
        with engine.begin() as connection:
            return connection.execute(statement).rowcount == 1
    except IntegrityError:  # a backend without ON CONFLICT: the constraint still says "seen"
        return False


def release_delivery(channel: str, delivery_id: str, engine: Engine | None = None) -> None:
    """Forget a claimed id whose message could not be taken in, so the platform's re-delivery is processed."""
    table = WebhookDelivery.__table__
    with (engine or _engine()).begin() as connection:
        connection.execute(delete(table).where(table.c.channel == channel[:32],
                                               table.c.delivery_id == str(delivery_id)[:255]))


def prune_deliveries(engine: Engine | None = None, now: datetime | None = None) -> int:
    """Delete delivery ids older than the retention window (CLINIC_WEBHOOK_DEDUP_DAYS); returns how many."""
    table = WebhookDelivery.__table__
    cutoff = (now or utcnow()) - timedelta(days=dedup_days())
    with (engine or _engine()).begin() as connection:
        return connection.execute(delete(table).where(table.c.received_at < cutoff)).rowcount or 0


def _maybe_prune(engine: Engine) -> None:
    global _pruned_at
    with _prune_lock:
        if time.monotonic() - _pruned_at < PRUNE_EVERY:
            return
        _pruned_at = time.monotonic()
    try:
        removed = prune_deliveries(engine)
        if removed:
            logger.info("webhook de-duplication: %d delivery ids past the retention window removed", removed)
    except Exception as error:  # noqa: BLE001 - the clean-up is retried later; de-duplication goes on
        logger.warning("webhook de-duplication: pruning old delivery ids failed: %s", error)


def record_outgoing(conversation_id: str, channel: str, status: str, *, platform_message_id: str | None = None,
                    urgent_level: str | None = None, attempts: int = 1, error: str | None = None,
                    engine: Engine | None = None) -> None:
    """Record one sent or failed outgoing message on the conversation."""
    with (engine or _engine()).begin() as connection:
        connection.execute(insert(OutgoingMessage.__table__).values(
            conversation_id=conversation_id[:255], channel=channel[:32], status=status[:32],
            platform_message_id=(platform_message_id or None) and str(platform_message_id)[:255],
            urgent_level=urgent_level, attempts=attempts, error=(error or None) and error[:ERROR_CHARS],
            created_at=utcnow(), updated_at=utcnow()))


def update_status(channel: str, platform_message_id: str, status: str, error: str | None = None,
                  engine: Engine | None = None) -> OutgoingMessage | None:
    """A platform's delivery status callback: set the message's status; returns the row (None if unknown)."""
    table = OutgoingMessage.__table__
    with (engine or _engine()).begin() as connection:
        row = connection.execute(select(table).where(table.c.channel == channel,
                                                     table.c.platform_message_id == platform_message_id)
                                 ).first()
        if row is None:
            return None
        values = {"status": status[:32], "updated_at": utcnow()}
        if error:
            values["error"] = error[:ERROR_CHARS]
        connection.execute(table.update().where(table.c.id == row.id).values(**values))
        return OutgoingMessage(**{**dict(row._mapping), **values})


def outgoing_for(conversation_id: str, engine: Engine | None = None) -> list[dict]:
    """The outgoing messages recorded for a conversation, oldest first (for the staff console and tests)."""
    table = OutgoingMessage.__table__
    with (engine or _engine()).connect() as connection:
        rows = connection.execute(select(table).where(table.c.conversation_id == conversation_id)
                                  .order_by(table.c.id))
        return [dict(row._mapping) for row in rows]
