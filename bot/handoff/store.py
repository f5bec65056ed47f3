"""Handoff state per conversation in the clinic database: who has it and since when.

States: `waiting` (the visitor asked for a person), `staff` (a staff member took over; the bot is paused),
`bot` (handed back, or never handed over). One row per conversation; every change commits at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, Column, DateTime, String, select

from bot.db import Base, clinic_session
from bot.escalations import utcnow  # naive UTC, as every clinic table stores it

WAITING, STAFF, BOT = "waiting", "staff", "bot"


class Handoff(Base):
    __tablename__ = "handoffs"

    conversation_id = Column(String(255), primary_key=True)
    state = Column(String(16), nullable=False, default=BOT, index=True)
    staff_id = Column(String(255), nullable=True)      # the staff account's username
    staff_name = Column(String(255), nullable=True)    # the first name the visitor sees
    requested_at = Column(DateTime, nullable=True)     # when the visitor asked for a person
    taken_at = Column(DateTime, nullable=True)
    red_flag_alert = Column(Boolean, nullable=False, default=False)  # a red flag arrived during the handoff
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


@dataclass(frozen=True)
class HandoffState:
    conversation_id: str
    state: str
    staff_id: str | None = None
    staff_name: str | None = None
    requested_at: datetime | None = None
    taken_at: datetime | None = None
    red_flag_alert: bool = False

    def waiting_seconds(self, now: datetime | None = None) -> float | None:
        if self.state != WAITING or self.requested_at is None:
            return None
        return ((now or utcnow()) - self.requested_at).total_seconds()


def _state(row: Handoff | None, conversation_id: str) -> HandoffState:
    if row is None:
        return HandoffState(conversation_id, BOT)
    return HandoffState(row.conversation_id, row.state, row.staff_id, row.staff_name, row.requested_at,
                        row.taken_at, bool(row.red_flag_alert))


def _row(session, conversation_id: str) -> Handoff:
    row = session.get(Handoff, conversation_id)
    if row is None:
        row = Handoff(conversation_id=conversation_id, state=BOT)
        session.add(row)
    return row


def get(conversation_id: str) -> HandoffState:
    with clinic_session() as session:
        return _state(session.get(Handoff, conversation_id), conversation_id)


def request_person(conversation_id: str) -> HandoffState:
    """The visitor asked for a person: queue it (a conversation already with staff stays with them)."""
    with clinic_session() as session:
        row = _row(session, conversation_id)
        if row.state != STAFF:
            already_waiting = row.state == WAITING and row.requested_at is not None
            row.state = WAITING
            row.requested_at = row.requested_at if already_waiting else utcnow()
        session.flush()
        return _state(row, conversation_id)


def take_over(conversation_id: str, staff_id: str, staff_name: str) -> HandoffState:
    with clinic_session() as session:
        row = _row(session, conversation_id)
        row.state, row.staff_id, row.staff_name, row.taken_at = STAFF, staff_id, staff_name, utcnow()
        row.red_flag_alert = False
        session.flush()
        return _state(row, conversation_id)


def hand_back(conversation_id: str) -> HandoffState:
    with clinic_session() as session:
        row = _row(session, conversation_id)
        row.state, row.requested_at, row.red_flag_alert = BOT, None, False
        session.flush()
        return _state(row, conversation_id)


def mark_red_flag(conversation_id: str) -> HandoffState:
    """A red flag arrived while staff had the conversation: the console highlights it for them."""
    with clinic_session() as session:
        row = session.get(Handoff, conversation_id)
        if row is not None and row.state == STAFF:
            row.red_flag_alert = True
        session.flush()
        return _state(row, conversation_id)


def open_handoffs() -> list[HandoffState]:
    """Conversations waiting for a person or with staff, oldest request first."""
    with clinic_session() as session:
        rows = session.execute(select(Handoff).where(Handoff.state.in_([WAITING, STAFF]))
                               .order_by(Handoff.requested_at.is_(None), Handoff.requested_at,
                                         Handoff.taken_at)).scalars().all()
        return [_state(row, row.conversation_id) for row in rows]


def erase(conversation_id: str) -> None:
    """Forget the handoff row with the conversation (privacy erasure)."""
    with clinic_session() as session:
        row = session.get(Handoff, conversation_id)
        if row is not None:
            session.delete(row)
