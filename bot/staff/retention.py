"""Erase one person's data everywhere, and delete conversations older than the retention period."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from bot.channels.store import OutgoingMessage
from bot.feedback import AnswerFeedback
from bot.handoff.store import Handoff
from bot.settings import settings
from bot.staff import audit
from bot.staff.auth import pseudonym
from bot.staff.models import (
    ConversationSummary,
    ConversationText,
    ConversationTopic,
    LowConfidenceMessage,
    MessageLabel,
    Review,
    Tag,
)
from bot.staff.summaries import ESCALATIONS, EVENTS, ensure_events_table, refresh_summaries

# Every table that holds a person's data, and the column naming the conversation (Rasa sender id).
PERSONAL_TABLES = [
    (EVENTS, EVENTS.c.sender_id),
    (ESCALATIONS, ESCALATIONS.c.conversation_id),
    (ConversationSummary.__table__, ConversationSummary.__table__.c.sender_id),
    (ConversationTopic.__table__, ConversationTopic.__table__.c.sender_id),
    (ConversationText.__table__, ConversationText.__table__.c.sender_id),
    (LowConfidenceMessage.__table__, LowConfidenceMessage.__table__.c.sender_id),
    (Review.__table__, Review.__table__.c.sender_id),
    (Tag.__table__, Tag.__table__.c.sender_id),
    (MessageLabel.__table__, MessageLabel.__table__.c.sender_id),
    (Handoff.__table__, Handoff.__table__.c.conversation_id),  # who handled it (staff messages are events)
    (AnswerFeedback.__table__, AnswerFeedback.__table__.c.conversation_id),  # the visitor's ratings
    (OutgoingMessage.__table__, OutgoingMessage.__table__.c.conversation_id),  # delivery records of replies
]


def retention_days() -> int:
    """CLINIC_RETENTION_DAYS (default 365): conversations idle longer than this are deleted."""
    return settings().retention_days


def erase_conversation(conn: Connection, sender_id: str, secret: str, actor: str,
                       reason: str = "erasure request") -> dict[str, int]:
    """Delete every row of one conversation (events, escalations, summaries, reviews, tags, labels).

    The audit log keeps who did what, but its entries for this person now name a keyed pseudonym instead
    of the sender id, so nothing in the database names the person afterwards.
    """
    deleted: dict[str, int] = {}
    for table, column in PERSONAL_TABLES:
        deleted[table.name] = conn.execute(table.delete().where(column == sender_id)).rowcount or 0
    alias = pseudonym(secret, sender_id)
    conn.execute(audit.AUDIT.update().where(audit.AUDIT.c.target == sender_id).values(target=alias))
    audit.record(conn, actor, "erase", alias,
                 f"{reason}; rows deleted: " + ", ".join(f"{k}={v}" for k, v in deleted.items() if v))
    return deleted


@dataclass
class RetentionReport:
    cutoff: datetime
    conversations: int
    events: int
    dry_run: bool


def expired_conversations(conn: Connection, cutoff: datetime) -> list[str]:
    """Sender ids whose newest event and newest escalation are both older than cutoff."""
    cutoff_ts = cutoff.replace(tzinfo=timezone.utc).timestamp()
    newest_event = {s: t for s, t in conn.execute(
        select(EVENTS.c.sender_id, func.max(EVENTS.c.timestamp)).group_by(EVENTS.c.sender_id))}
    newest_escalation = {s: t for s, t in conn.execute(
        select(ESCALATIONS.c.conversation_id, func.max(ESCALATIONS.c.created_at))
        .group_by(ESCALATIONS.c.conversation_id))}
    expired = []
    for sender in set(newest_event) | set(newest_escalation):
        event_at = newest_event.get(sender)
        escalation_at = newest_escalation.get(sender)
        if event_at is not None and event_at >= cutoff_ts:
            continue
        if escalation_at is not None and escalation_at >= cutoff:
            continue
        expired.append(sender)
    return sorted(expired)


def apply_retention(engine: Engine, secret: str, days: int | None = None, dry_run: bool = False,
                    actor: str = "retention") -> RetentionReport:
    """Erase every conversation idle for more than `days` (default CLINIC_RETENTION_DAYS)."""
    days = days if days is not None else retention_days()
    cutoff = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=days)
    ensure_events_table(engine)
    refresh_summaries(engine)
    with engine.connect() as conn:
        senders = expired_conversations(conn, cutoff)
    events = 0
    if not dry_run:
        for sender in senders:
            with engine.begin() as conn:
                events += erase_conversation(conn, sender, secret, actor,
                                             f"retention: idle more than {days} days")["events"]
        with engine.begin() as conn:
            audit.record(conn, actor, "retention", None,
                         f"cutoff {cutoff:%Y-%m-%d %H:%M} UTC ({days} days): "
                         f"{len(senders)} conversations, {events} events deleted")
    return RetentionReport(cutoff, len(senders), events, dry_run)
