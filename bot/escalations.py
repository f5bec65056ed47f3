"""The escalations service: one record per red-flag conversation, shared by the action server and the console.

The action server creates records (before the bot promises a call-back) and adds contact details; the staff
console reads the queue and changes status, assignee and notes, always through the functions here. Contact
details are encrypted at rest (bot/encryption.py): the ORM and Core queries give back plaintext, the raw
column holds a Fernet token.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, Integer, String, Text, select
from sqlalchemy.engine import Connection

from bot.db import Base
from bot.encryption import EncryptedText


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Escalation(Base):
    __tablename__ = "escalations"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(64), nullable=True)
    level = Column(String(32), nullable=False, index=True)          # emergency | same_day | soon
    flags = Column(Text, nullable=False)                            # comma-separated flag ids
    message = Column(Text, nullable=False)                          # the user's message that escalated
    contact_name = Column(EncryptedText, nullable=True)             # encrypted at rest
    contact_details = Column(EncryptedText, nullable=True)          # phone (E.164) or email, encrypted
    consent = Column(Boolean, nullable=True)
    status = Column(String(32), nullable=False, default="open", index=True)  # open | contacted | closed
    assignee = Column(String(255), nullable=True)
    notes = Column(Text, nullable=True)
    notified = Column(Boolean, nullable=False, default=False)       # the staff notifier succeeded
    # "rasa": written by the Rasa server itself because the action server was down or hung (no contact offer
    # could be made); "rasa,adopted" once the action server took it over in the next red-flag turn
    recorded_by = Column(String(16), nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


# ---------------------------------------------------------------------------------------------------------------
# Storing escalations. Every function commits before it returns, so nothing is lost if the person leaves.

MAX_MESSAGE_CHARS = 10_000
MAX_FIELD_CHARS = 255


def _clip(value: str | None, limit: int) -> str | None:
    return None if value is None else str(value)[:limit]


def escalation_payload(escalation: Escalation, event: str = "created") -> dict:
    """The escalation as JSON for staff notifications: ids, level and flags, never the patient's words or contact
    details. A notification leaves the clinic's systems (a mail server, a chat relay, a pager), so health data
    stays in the staff console, the one place to read a conversation."""
    return {
        "event": event,
        "id": escalation.id,
        "conversation_id": escalation.conversation_id,
        "channel": escalation.channel,
        "level": escalation.level,
        "flags": [f for f in (escalation.flags or "").split(",") if f],
        "status": escalation.status,
        "has_contact": bool(escalation.contact_details),
        "recorded_by": escalation.recorded_by or "actions",
        "consent": escalation.consent,
        "created_at": escalation.created_at.isoformat() if escalation.created_at else None,
    }


def create_escalation(conversation_id: str, level: str, flags: list[str], message: str,
                      channel: str | None = None, recorded_by: str | None = None) -> Escalation:
    """Insert and commit a new open escalation; returns it (detached, with its id)."""
    from bot.db import clinic_session

    with clinic_session() as session:
        escalation = Escalation(
            conversation_id=_clip(conversation_id or "unknown", MAX_FIELD_CHARS),
            channel=_clip(channel, 64),
            level=level,
            flags=",".join(flags) or "unspecified",
            message=_clip(message or "", MAX_MESSAGE_CHARS),
            recorded_by=recorded_by,
        )
        session.add(escalation)
        session.flush()
    return escalation


def add_flags(escalation_id: int, level: str, flags: list[str], message: str) -> Escalation | None:
    """A later red flag in the same conversation: raise the level if more severe, add flags, keep the message."""
    from bot.db import clinic_session
    from bot.triage.flags import level_rank

    with clinic_session() as session:
        escalation = session.get(Escalation, escalation_id)
        if escalation is None:
            return None
        known = [f for f in escalation.flags.split(",") if f]
        escalation.flags = ",".join(known + [f for f in flags if f not in known])
        if level_rank(level) < level_rank(escalation.level):
            escalation.level = level
        note = f"later message: {_clip(message or '', 2_000)}"
        escalation.notes = f"{escalation.notes}\n{note}" if escalation.notes else note
    return escalation


RECORDED_BY_RASA = "rasa"
ADOPT_WITHIN = timedelta(hours=2)


def adoptable_escalation(conversation_id: str) -> Escalation | None:
    """The conversation's open escalation that the Rasa server recorded on its own in the last two hours (the
    action server was down): the action server's next red-flag turn takes it over instead of opening another.
    A hung action server that answers late finds the record of the very message it was asked about."""
    from bot.db import clinic_session

    since = utcnow() - ADOPT_WITHIN
    with clinic_session() as session:
        return session.execute(
            select(Escalation).where(Escalation.conversation_id == conversation_id,
                                     Escalation.recorded_by == RECORDED_BY_RASA, Escalation.status == "open",
                                     Escalation.created_at >= since)
            .order_by(Escalation.id.desc()).limit(1)).scalar_one_or_none()


def adopt(escalation_id: int, level: str, flags: list[str], message: str) -> Escalation | None:
    """The action server takes over a record the Rasa server made: flags and level merged, the message noted
    unless it is the one already recorded."""
    from bot.db import clinic_session
    from bot.triage.flags import level_rank

    with clinic_session() as session:
        escalation = session.get(Escalation, escalation_id)
        if escalation is None:
            return None
        known = [f for f in escalation.flags.split(",") if f]
        escalation.flags = ",".join(known + [f for f in flags if f not in known])
        if level_rank(level) < level_rank(escalation.level):
            escalation.level = level
        if (message or "") != escalation.message:
            note = f"later message: {_clip(message or '', 2_000)}"
            escalation.notes = f"{escalation.notes}\n{note}" if escalation.notes else note
        escalation.recorded_by = f"{RECORDED_BY_RASA},adopted"
    return escalation


def set_notified(escalation_id: int, notified: bool) -> None:
    from bot.db import clinic_session

    with clinic_session() as session:
        escalation = session.get(Escalation, escalation_id)
        if escalation is not None:
            escalation.notified = bool(notified)


def add_contact(escalation_id: int, name: str | None, details: str | None, consent: bool) -> Escalation:
    """Record consent, and the contact details only with consent. Raises if the escalation does not exist."""
    from bot.db import clinic_session

    with clinic_session() as session:
        escalation = session.get(Escalation, escalation_id)
        if escalation is None:
            raise LookupError(f"escalation {escalation_id} not found; it must be created before contact details")
        escalation.consent = bool(consent)
        if consent:
            escalation.contact_name = _clip(name, MAX_FIELD_CHARS)
            escalation.contact_details = _clip(details, MAX_FIELD_CHARS)
        else:
            escalation.contact_name = None
            escalation.contact_details = None
    return escalation


def get_escalation(escalation_id: int) -> Escalation | None:
    from bot.db import clinic_session

    with clinic_session() as session:
        return session.get(Escalation, escalation_id)


# ---------------------------------------------------------------------------------------------------------------
# The console's side: read rows as dicts and change status, assignee and notes (on the caller's connection, so
# the change and its audit entry commit together).

STATUSES = ("open", "contacted", "closed")
EDITABLE = {"assignee": MAX_FIELD_CHARS, "notes": MAX_MESSAGE_CHARS}
TABLE = Escalation.__table__


@dataclass(frozen=True)
class EscalationUpdate:
    row: dict[str, Any]      # the escalation after the change
    changed: list[str]       # the fields that were given (status, assignee, notes)


def clean_changes(values: Mapping[str, Any]) -> dict[str, Any]:
    """The changes a staff member asked for, checked: raises ValueError with a message fit for the person."""
    changes: dict[str, Any] = {}
    if "status" in values:
        if values["status"] not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        changes["status"] = values["status"]
    for key, limit in EDITABLE.items():
        if key in values:
            changes[key] = (str(values[key] or "").strip()[:limit]) or None
    return changes


def escalation_row(conn: Connection, escalation_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(TABLE).where(TABLE.c.id == escalation_id)).mappings().first()
    return None if row is None else dict(row)


def escalations_of(conn: Connection, conversation_id: str) -> list[dict[str, Any]]:
    """Every escalation of one conversation, oldest first."""
    query = select(TABLE).where(TABLE.c.conversation_id == conversation_id).order_by(TABLE.c.id)
    return [dict(r) for r in conn.execute(query).mappings()]


def update_escalation(conn: Connection, escalation_id: int, values: Mapping[str, Any]) -> EscalationUpdate | None:
    """Apply status/assignee/notes changes (checked by clean_changes); None if there is no such escalation."""
    changes = clean_changes(values)
    if escalation_row(conn, escalation_id) is None:
        return None
    if changes:
        conn.execute(TABLE.update().where(TABLE.c.id == escalation_id).values(**changes, updated_at=utcnow()))
    return EscalationUpdate(escalation_row(conn, escalation_id) or {}, list(changes))


def mark_advice_undelivered(conversation_id: str, channel: str, level: str) -> int | None:
    """Urgent advice could not be delivered: note it on the conversation's latest escalation (shown in the
    console with the notes); returns its id, or None if there is none yet."""
    from bot.db import clinic_session

    note = (f"[{utcnow():%Y-%m-%d %H:%M} UTC] URGENT ADVICE NOT DELIVERED: the {level} advice could not be "
            f"delivered on {channel}; contact the person another way.")
    with clinic_session() as session:
        escalation = session.scalars(select(Escalation).where(Escalation.conversation_id == conversation_id)
                                     .order_by(Escalation.id.desc()).limit(1)).first()
        if escalation is None:
            return None
        escalation.notes = f"{escalation.notes}\n{note}" if escalation.notes else note
        return escalation.id


def reseal_contacts(conn: Connection) -> int:
    """Reseal every stored contact detail with the newest data key (after a key rotation); returns rows changed."""
    from sqlalchemy import Text, column, table

    from bot.encryption import reencrypt

    raw = table("escalations", column("id", Integer), column("contact_name", Text), column("contact_details", Text))
    changed = 0
    for row in conn.execute(select(raw).where((raw.c.contact_name.isnot(None)) | (raw.c.contact_details.isnot(None))
                                              )).mappings().all():
        values = {k: reencrypt(row[k]) for k in ("contact_name", "contact_details") if row[k] is not None}
        conn.execute(raw.update().where(raw.c.id == row["id"]).values(**values))
        changed += 1
    return changed
