"""Patients' feedback on answers ("Was this helpful? 👍 👎"): stored with the answer's topic and sources.

One row per rating in the clinic database (`answer_feedback`), written by the action server, read by the
staff console (transcript, analytics: helpfulness per topic over time, CSV export beside the misunderstood
labels) and erased with the conversation.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, Integer, String, Text, case, func, select
from sqlalchemy.engine import Connection

from bot.db import Base, clinic_session
from bot.escalations import utcnow  # naive UTC, as every clinic table stores it


class AnswerFeedback(Base):
    __tablename__ = "answer_feedback"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    channel = Column(String(64), nullable=True)
    topic = Column(String(64), nullable=True, index=True)   # the card that was answered (None: a passage)
    sources = Column(Text, nullable=False, default="")      # comma-separated source ids of that answer
    helpful = Column(Boolean, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)


FEEDBACK = AnswerFeedback.__table__


def record_feedback(conversation_id: str, helpful: bool, topic: str | None, sources: list[str],
                    channel: str | None = None) -> int:
    with clinic_session() as session:
        row = AnswerFeedback(conversation_id=conversation_id[:255], channel=(channel or None) and channel[:64],
                             topic=(topic or None) and topic[:64], sources=",".join(sources)[:2000],
                             helpful=bool(helpful))
        session.add(row)
        session.flush()
        return row.id


def helpfulness_by_topic(conn: Connection, days: int = 90) -> list[dict[str, Any]]:
    """Per topic: ratings, helpful, not helpful and the share helpful, over the last `days` days."""
    since = utcnow() - timedelta(days=days)
    helpful = func.sum(case((FEEDBACK.c.helpful.is_(True), 1), else_=0))
    rows = conn.execute(select(FEEDBACK.c.topic, func.count().label("ratings"), helpful.label("helpful"))
                        .where(FEEDBACK.c.created_at >= since).group_by(FEEDBACK.c.topic)
                        .order_by(func.count().desc())).mappings()
    return [{"topic": r["topic"] or "(passage)", "ratings": r["ratings"], "helpful": int(r["helpful"] or 0),
             "not_helpful": r["ratings"] - int(r["helpful"] or 0),
             "share_helpful": (int(r["helpful"] or 0) / r["ratings"]) if r["ratings"] else None} for r in rows]


def helpfulness_by_week(conn: Connection, weeks: int = 12) -> list[dict[str, Any]]:
    """Per ISO week (Monday's date): ratings and the share helpful, oldest first."""
    rows = conn.execute(select(FEEDBACK.c.created_at, FEEDBACK.c.helpful)
                        .where(FEEDBACK.c.created_at >= utcnow() - timedelta(weeks=weeks))).all()
    weekly: dict[str, list[int]] = {}
    for created_at, is_helpful in rows:
        monday = (created_at - timedelta(days=created_at.weekday())).date().isoformat()
        counts = weekly.setdefault(monday, [0, 0])
        counts[0] += 1
        counts[1] += 1 if is_helpful else 0
    return [{"week": week, "ratings": n, "share_helpful": good / n} for week, (n, good) in sorted(weekly.items())]


def all_feedback(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(select(FEEDBACK).order_by(FEEDBACK.c.id)).mappings()]
