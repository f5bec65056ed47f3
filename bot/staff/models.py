"""The staff console's own tables: accounts, conversation summaries, reviews, tags, labels, audit log."""
from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)

from bot.db import Base
from bot.escalations import utcnow

ROLES = ("staff", "admin")


class StaffUser(Base):
    """A console account. Passwords are argon2 hashes; 5 failed logins lock it for a while."""

    __tablename__ = "staff_users"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(64), nullable=True)  # what a visitor sees when this person joins a chat
    password_hash = Column(String(255), nullable=False)
    role = Column(String(16), nullable=False, default="staff")  # staff | admin
    active = Column(Boolean, nullable=False, default=True)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_login_at = Column(DateTime, nullable=True)


class SummaryState(Base):
    """How far the summary builder has read the `events` and `escalations` tables (one row)."""

    __tablename__ = "staff_summary_state"

    key = Column(String(32), primary_key=True)
    last_event_id = Column(Integer, nullable=False, default=0)
    last_escalation_id = Column(Integer, nullable=False, default=0)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class ConversationSummary(Base):
    """One row per conversation (Rasa sender id), kept up to date from new events; the list filters it."""

    __tablename__ = "conversation_summaries"

    sender_id = Column(String(255), primary_key=True)
    channel = Column(String(64), nullable=True)
    started_at = Column(DateTime, nullable=False, index=True)
    started_day = Column(String(10), nullable=False, index=True)  # YYYY-MM-DD (UTC), for per-day charts
    last_event_at = Column(DateTime, nullable=False, index=True)
    user_messages = Column(Integer, nullable=False, default=0, index=True)
    bot_messages = Column(Integer, nullable=False, default=0)
    topics = Column(Text, nullable=False, default="")  # comma-separated card ids, for display
    first_message = Column(Text, nullable=True)  # a preview for the list
    escalated = Column(Boolean, nullable=False, default=False)
    escalation_level = Column(String(32), nullable=True)
    red_flag = Column(Boolean, nullable=False, default=False)
    fallback = Column(Boolean, nullable=False, default=False)
    low_confidence = Column(Boolean, nullable=False, default=False)
    unsure = Column(Boolean, nullable=False, default=False)  # fallback or low confidence (one indexed filter)
    min_confidence = Column(Float, nullable=True)
    reviewed = Column(Boolean, nullable=False, default=False)
    last_event_id = Column(Integer, nullable=False, default=0)

    # Each filter column leads an index that ends in the list's sort order, so a filtered page is read
    # straight off the index (and counted from it) instead of sorting the matches.
    __table_args__ = (
        Index("ix_conversation_summaries_started_sender", "started_at", "sender_id"),
        Index("ix_conversation_summaries_channel", "channel", "started_at"),
        Index("ix_conversation_summaries_escalated", "escalated", "started_at"),
        Index("ix_conversation_summaries_fallback", "fallback", "started_at"),
        Index("ix_conversation_summaries_low_confidence", "low_confidence", "started_at"),
        Index("ix_conversation_summaries_unsure", "unsure", "started_at"),
        Index("ix_conversation_summaries_reviewed", "reviewed", "started_at"),
    )


class ConversationTopic(Base):
    """Which topics (answer cards) a conversation touched: the topic filter and the top-topics chart."""

    __tablename__ = "conversation_topics"

    sender_id = Column(String(255), primary_key=True)
    topic = Column(String(64), primary_key=True)

    __table_args__ = (Index("ix_conversation_topics_topic", "topic", "sender_id"),)


class ConversationText(Base):
    """The user's messages of a conversation, lower-cased, for text search (kept out of the summary rows)."""

    __tablename__ = "conversation_search"

    sender_id = Column(String(255), primary_key=True)
    text = Column(Text, nullable=False, default="")


class LowConfidenceMessage(Base):
    """User messages the NLU was unsure of (or fell back on): the review queue for 'misunderstood'."""

    __tablename__ = "staff_low_confidence_messages"

    event_id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    text = Column(Text, nullable=False)
    intent = Column(String(255), nullable=True)
    confidence = Column(Float, nullable=True)
    at = Column(DateTime, nullable=False, index=True)


class Review(Base):
    """A staff member marked a conversation reviewed."""

    __tablename__ = "staff_reviews"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, index=True)
    reviewer = Column(String(64), nullable=False)
    note = Column(Text, nullable=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class Tag(Base):
    """A free-text tag on a conversation (e.g. 'good answer', 'needs card')."""

    __tablename__ = "staff_tags"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False)
    tag = Column(String(64), nullable=False)
    created_by = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)

    __table_args__ = (
        UniqueConstraint("sender_id", "tag", name="uq_staff_tags_sender_tag"),
        Index("ix_staff_tags_tag", "tag", "sender_id"),
    )


class MessageLabel(Base):
    """A user message the bot misunderstood, with the intent it should have had (exported as NLU YAML)."""

    __tablename__ = "staff_message_labels"

    id = Column(Integer, primary_key=True)
    event_id = Column(Integer, nullable=False, unique=True)
    sender_id = Column(String(255), nullable=False, index=True)
    text = Column(Text, nullable=False)
    predicted_intent = Column(String(255), nullable=True)
    correct_intent = Column(String(255), nullable=False, index=True)
    labelled_by = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class AuditEntry(Base):
    """Who viewed, exported, erased or changed what, and when. Erasure pseudonymises the target."""

    __tablename__ = "staff_audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    actor = Column(String(64), nullable=False)
    action = Column(String(64), nullable=False, index=True)
    target = Column(String(255), nullable=True, index=True)
    detail = Column(Text, nullable=True)
