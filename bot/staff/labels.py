"""The labels area's service: mark a misunderstood message with the intent it should have had, or undo it."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.escalations import utcnow
from bot.staff import audit, queries
from bot.staff.models import MessageLabel

LABELS = MessageLabel.__table__


@lru_cache(maxsize=1)
def domain_intents() -> list[str]:
    """The intents a message can be relabelled to, from the domain (domain/)."""
    from bot.topic_wiring import domain_dict

    names = []
    for item in domain_dict().get("intents") or []:
        names.append(next(iter(item)) if isinstance(item, dict) else str(item))
    return names


def label_message(conn: Connection, actor: str, event_id: int, intent: str) -> dict[str, Any] | None:
    """Label one user message (replacing an earlier label); None if there is no such user message."""
    message = queries.user_event(conn, event_id)
    if message is None:
        return None
    conn.execute(LABELS.delete().where(LABELS.c.event_id == message["id"]))
    conn.execute(LABELS.insert().values(
        event_id=message["id"], sender_id=message["sender_id"], text=message["text"],
        predicted_intent=message["intent"], correct_intent=intent, labelled_by=actor, created_at=utcnow()))
    audit.record(conn, actor, "label", message["sender_id"], f"event {message['id']}: {message['intent']} -> {intent}")
    return message


def delete_label(conn: Connection, actor: str, label_id: int) -> Any | None:
    """Remove one label; returns the removed row (None if there was none)."""
    row = conn.execute(select(LABELS).where(LABELS.c.id == label_id)).first()
    if row is None:
        return None
    conn.execute(LABELS.delete().where(LABELS.c.id == row.id))
    audit.record(conn, actor, "unlabel", row.sender_id, f"event {row.event_id}")
    return row
