"""The conversations area's service: one conversation's page data, reviews and tags (each change audited)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot import escalations
from bot.staff import audit, queries
from bot.staff.models import Review, Tag
from bot.staff.summaries import SUMMARY

REVIEWS = Review.__table__
TAGS = Tag.__table__


def conversation_page(conn: Connection, sender_id: str) -> dict[str, Any] | None:
    """Transcript, summary, escalations, tags and reviews of one conversation; None if there is nothing."""
    items = queries.transcript(conn, sender_id)
    found = escalations.escalations_of(conn, sender_id)
    if not items and not found:
        return None
    tags = [r.tag for r in conn.execute(select(TAGS.c.tag).where(TAGS.c.sender_id == sender_id)
                                        .order_by(TAGS.c.tag))]
    reviews = [dict(r) for r in conn.execute(select(REVIEWS).where(REVIEWS.c.sender_id == sender_id)
                                             .order_by(REVIEWS.c.id)).mappings()]
    return {"items": items, "summary": queries.summary_for(conn, sender_id), "escalations": found,
            "tags": tags, "reviews": reviews}


def set_reviewed(conn: Connection, actor: str, sender_id: str, reviewed: bool, note: str | None) -> None:
    """Mark reviewed (a new review row) or not (the rows go; the audit log keeps the history)."""
    if reviewed:
        conn.execute(REVIEWS.insert().values(sender_id=sender_id, reviewer=actor, note=note,
                                             created_at=escalations.utcnow()))
    else:
        conn.execute(REVIEWS.delete().where(REVIEWS.c.sender_id == sender_id))
    conn.execute(SUMMARY.update().where(SUMMARY.c.sender_id == sender_id).values(reviewed=reviewed))
    audit.record(conn, actor, "review" if reviewed else "unreview", sender_id)


def set_tag(conn: Connection, actor: str, sender_id: str, name: str, remove: bool) -> None:
    conn.execute(TAGS.delete().where(TAGS.c.sender_id == sender_id, TAGS.c.tag == name))
    if not remove:
        conn.execute(TAGS.insert().values(sender_id=sender_id, tag=name, created_by=actor,
                                          created_at=escalations.utcnow()))
    audit.record(conn, actor, "untag" if remove else "tag", sender_id, name)
