"""The Escalation record: one per red-flag conversation, written before the bot promises a call-back."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Boolean, Column, DateTime, Integer, String, Text

from bot.db import Base


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
    contact_name = Column(String(255), nullable=True)
    contact_details = Column(String(255), nullable=True)            # phone or email
    consent = Column(Boolean, nullable=True)
    status = Column(String(32), nullable=False, default="open", index=True)  # open | contacted | closed
    assignee = Column(String(255), nullable=True)
    notes = Column(Text, nullable=True)
    notified = Column(Boolean, nullable=False, default=False)       # the staff notifier succeeded
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
