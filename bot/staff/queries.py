"""The console's read queries: the conversation list, one transcript, the escalation queue, analytics."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Connection

from bot.staff.languages import language_condition
from bot.staff.models import ConversationText, LowConfidenceMessage, MessageLabel, Tag
from bot.staff.summaries import (
    ESCALATIONS,
    EVENTS,
    SUMMARY,
    TOPICS,
    low_confidence_threshold,
    parse_event,
    to_datetime,
)

SEARCH = ConversationText.__table__
TAGS = Tag.__table__
LABELS = MessageLabel.__table__
LOWCONF = LowConfidenceMessage.__table__
PAGE_SIZE = 50


@dataclass
class ConversationFilters:
    """The list's filters, as read from the query string (every one optional)."""

    channel: str = ""
    date_from: str = ""      # YYYY-MM-DD, inclusive (UTC)
    date_to: str = ""        # YYYY-MM-DD, inclusive (UTC)
    min_messages: int | None = None
    max_messages: int | None = None
    topic: str = ""
    escalated: str = ""      # "yes" | "no" | ""
    quality: str = ""        # "fallback" | "low_confidence" | "either" | "clean" | ""
    reviewed: str = ""       # "yes" | "no" | ""
    tag: str = ""
    q: str = ""              # text search in the user's messages (or a sender id prefix)
    language: str = ""       # a language the detector found in a user message (bot/staff/languages.py)

    @classmethod
    def from_args(cls, args: Any) -> ConversationFilters:
        def number(name: str) -> int | None:
            value = (args.get(name) or "").strip()
            return int(value) if value.isdigit() else None

        def text(name: str, limit: int = 200) -> str:
            return (args.get(name) or "").strip()[:limit]

        return cls(channel=text("channel", 64), date_from=text("date_from", 10), date_to=text("date_to", 10),
                   min_messages=number("min_messages"), max_messages=number("max_messages"),
                   topic=text("topic", 64), escalated=text("escalated", 3), quality=text("quality", 16),
                   reviewed=text("reviewed", 3), tag=text("tag", 64), q=text("q"),
                   language=text("language", 8))

    def as_args(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v not in ("", None)}


def parse_day(value: str) -> datetime | None:
    """A YYYY-MM-DD day (UTC midnight), or None if the text is not one."""
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return None


def _conditions(filters: ConversationFilters) -> list[Any]:
    s = SUMMARY.c
    conditions: list[Any] = []
    if filters.channel:
        conditions.append(s.channel == filters.channel)
    if (start := parse_day(filters.date_from)) is not None:
        conditions.append(s.started_at >= start)
    if (end := parse_day(filters.date_to)) is not None:
        conditions.append(s.started_at < end + timedelta(days=1))
    if filters.min_messages is not None:
        conditions.append(s.user_messages >= filters.min_messages)
    if filters.max_messages is not None:
        conditions.append(s.user_messages <= filters.max_messages)
    if filters.topic:
        conditions.append(s.sender_id.in_(select(TOPICS.c.sender_id).where(TOPICS.c.topic == filters.topic)))
    if filters.escalated in ("yes", "no"):
        conditions.append(s.escalated.is_(filters.escalated == "yes"))
    if filters.quality == "fallback":
        conditions.append(s.fallback.is_(True))
    elif filters.quality == "low_confidence":
        conditions.append(s.low_confidence.is_(True))
    elif filters.quality == "either":
        conditions.append(s.unsure.is_(True))
    elif filters.quality == "clean":
        conditions.append(s.unsure.is_(False))
    if filters.reviewed in ("yes", "no"):
        conditions.append(s.reviewed.is_(filters.reviewed == "yes"))
    if filters.tag:
        conditions.append(s.sender_id.in_(select(TAGS.c.sender_id).where(TAGS.c.tag == filters.tag)))
    if filters.language and (by_language := language_condition(filters.language, s.sender_id)) is not None:
        conditions.append(by_language)
    if filters.q:
        needle = filters.q.lower()
        conditions.append(or_(
            s.sender_id.startswith(filters.q, autoescape=True),
            s.sender_id.in_(select(SEARCH.c.sender_id)
                            .where(SEARCH.c.text.contains(needle, autoescape=True))),
        ))
    return conditions


def list_conversations(conn: Connection, filters: ConversationFilters, page: int = 1,
                       per_page: int = PAGE_SIZE) -> tuple[list[dict[str, Any]], int]:
    """One page of conversation summaries, newest first, and the number of matches."""
    conditions = _conditions(filters)
    page = max(1, page)
    rows = conn.execute(
        select(SUMMARY).where(*conditions)
        .order_by(SUMMARY.c.started_at.desc(), SUMMARY.c.sender_id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).mappings().all()
    total = conn.execute(select(func.count()).select_from(SUMMARY).where(*conditions)).scalar() or 0
    return [dict(row) for row in rows], total


_choices_cache: dict[str, tuple[float, dict[str, list[str]]]] = {}
CHOICES_TTL = 60.0  # seconds: a new channel or tag shows up in the drop-downs within a minute


def filter_choices(conn: Connection) -> dict[str, list[str]]:
    """Distinct values for the filter drop-downs (channels, topics, tags), cached briefly per database."""
    key = str(conn.engine.url)
    cached = _choices_cache.get(key)
    if cached and time.monotonic() - cached[0] < CHOICES_TTL:
        return cached[1]
    choices = _filter_choices(conn)
    _choices_cache[key] = (time.monotonic(), choices)
    return choices


def forget_cached_choices() -> None:
    _choices_cache.clear()


def _filter_choices(conn: Connection) -> dict[str, list[str]]:
    return {
        "channels": [r[0] for r in conn.execute(select(SUMMARY.c.channel)
                                                .where(SUMMARY.c.channel.is_not(None))
                                                .distinct().order_by(SUMMARY.c.channel))],
        "topics": [r[0] for r in conn.execute(select(TOPICS.c.topic).distinct().order_by(TOPICS.c.topic))],
        "tags": [r[0] for r in conn.execute(select(TAGS.c.tag).distinct().order_by(TAGS.c.tag))],
    }


def summary_for(conn: Connection, sender_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(SUMMARY).where(SUMMARY.c.sender_id == sender_id)).mappings().first()
    return dict(row) if row else None


def transcript(conn: Connection, sender_id: str) -> list[dict[str, Any]]:
    """Every user message and bot reply of a conversation (plus actions), with what the NLU and bot knew."""
    threshold = low_confidence_threshold()
    labels = {r.event_id: r.correct_intent for r in conn.execute(
        select(LABELS.c.event_id, LABELS.c.correct_intent).where(LABELS.c.sender_id == sender_id))}
    items: list[dict[str, Any]] = []
    rows = conn.execute(select(EVENTS).where(EVENTS.c.sender_id == sender_id).order_by(EVENTS.c.id))
    for row in rows:
        data = parse_event(row.data)
        item: dict[str, Any] = {"id": row.id, "type": row.type_name, "at": to_datetime(row.timestamp)}
        if row.type_name == "user":
            parse = data.get("parse_data") or {}
            intent = parse.get("intent") or {}
            red = parse.get("red_flags") or {}
            confidence = intent.get("confidence")
            item.update(
                text=data.get("text") or "", intent=intent.get("name") or row.intent_name,
                confidence=confidence,
                low_confidence=confidence is not None and confidence < threshold,
                entities=[{"entity": e.get("entity"), "value": e.get("value")}
                          for e in parse.get("entities") or [] if isinstance(e, dict)],
                ranking=[(r.get("name"), r.get("confidence")) for r in (parse.get("intent_ranking") or [])[:3]
                         if isinstance(r, dict)],
                red_flag_level=red.get("level"), red_flags=list(red.get("flags") or []),
                red_flags_negated=list(red.get("negated") or []),
                channel=data.get("input_channel"), label=labels.get(row.id))
            if item["intent"] in ("feedback_helpful", "feedback_unhelpful"):  # a 👍 / 👎 under an answer
                item["feedback"] = "helpful" if item["intent"] == "feedback_helpful" else "not helpful"
        elif row.type_name == "bot":
            grounding = (data.get("metadata") or {}).get("grounding") or {}
            buttons = ((data.get("data") or {}).get("buttons") or [])
            staff = data.get("metadata") or {}
            if staff.get("author") == "staff":  # a clinic staff member's message (bot/handoff)
                item.update(staff_name=staff.get("staff_name"), staff_id=staff.get("staff_id"),
                            delivered=staff.get("delivered"))
            item.update(
                text=data.get("text") or "", topic=grounding.get("topic"),
                sources=[s for s in grounding.get("sources") or [] if isinstance(s, dict)],
                disagreement=grounding.get("disagreement"),
                buttons=[b.get("title") for b in buttons if isinstance(b, dict)])
        elif row.type_name == "action":
            item.update(name=row.action_name or data.get("name"))
        else:
            continue
        items.append(item)
    return items


def user_event(conn: Connection, event_id: int) -> dict[str, Any] | None:
    """One user message by event id (for labelling)."""
    row = conn.execute(select(EVENTS).where(EVENTS.c.id == event_id, EVENTS.c.type_name == "user")).first()
    if row is None:
        return None
    data = parse_event(row.data)
    intent = ((data.get("parse_data") or {}).get("intent") or {}).get("name") or row.intent_name
    return {"id": row.id, "sender_id": row.sender_id, "text": data.get("text") or "", "intent": intent}


def _created_between(start: datetime | None, end: datetime | None) -> list[Any]:
    """Escalations raised on the days start..end (both inclusive, UTC); either may be None (open-ended)."""
    conditions: list[Any] = []
    if start is not None:
        conditions.append(ESCALATIONS.c.created_at >= start)
    if end is not None:
        conditions.append(ESCALATIONS.c.created_at < end + timedelta(days=1))
    return conditions


def escalations(conn: Connection, status: str = "", start: datetime | None = None,
                end: datetime | None = None) -> list[dict[str, Any]]:
    """The escalation queue, newest first: every status or one, optionally only those raised start..end."""
    query = select(ESCALATIONS).where(*_created_between(start, end))
    if status in ("open", "contacted", "closed"):
        query = query.where(ESCALATIONS.c.status == status)
    query = query.order_by(ESCALATIONS.c.created_at.desc(), ESCALATIONS.c.id.desc()).limit(500)
    return [dict(r) for r in conn.execute(query).mappings()]


def escalation_counts(conn: Connection, start: datetime | None = None,
                      end: datetime | None = None) -> dict[str, int]:
    rows = conn.execute(select(ESCALATIONS.c.status, func.count()).where(*_created_between(start, end))
                        .group_by(ESCALATIONS.c.status))
    return {status: count for status, count in rows}


def low_confidence_messages(conn: Connection, limit: int = 100) -> list[dict[str, Any]]:
    rows = conn.execute(select(LOWCONF).order_by(LOWCONF.c.event_id.desc()).limit(limit)).mappings()
    return [dict(r) for r in rows]


def labels(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(select(LABELS).order_by(LABELS.c.id.desc())).mappings()]


def analytics(conn: Connection, days: int = 30) -> dict[str, Any]:
    """The numbers behind the charts: per day, per channel, top topics, escalation levels, fallback rate."""
    s = SUMMARY.c
    since = (datetime.utcnow() - timedelta(days=days - 1)).strftime("%Y-%m-%d")
    per_day = [(d, n) for d, n in conn.execute(
        select(s.started_day, func.count()).where(s.started_day >= since)
        .group_by(s.started_day).order_by(s.started_day))]
    per_channel = [(c or "unknown", n) for c, n in conn.execute(
        select(s.channel, func.count()).group_by(s.channel).order_by(func.count().desc()))]
    top_topics = [(t, n) for t, n in conn.execute(
        select(TOPICS.c.topic, func.count()).group_by(TOPICS.c.topic)
        .order_by(func.count().desc()).limit(12))]
    by_level = [(level, n) for level, n in conn.execute(
        select(ESCALATIONS.c.level, func.count()).group_by(ESCALATIONS.c.level)
        .order_by(ESCALATIONS.c.level))]
    totals = conn.execute(select(
        func.count(), func.sum(func.cast(s.fallback, SUMMARY.c.user_messages.type)),
        func.sum(func.cast(s.low_confidence, SUMMARY.c.user_messages.type)))).one()
    total, fallbacks, low = totals[0] or 0, totals[1] or 0, totals[2] or 0
    fallback_per_day = [(d, n, f) for d, n, f in conn.execute(
        select(s.started_day, func.count(), func.sum(func.cast(s.fallback, SUMMARY.c.user_messages.type)))
        .where(s.started_day >= since).group_by(s.started_day).order_by(s.started_day))]
    return {
        "days": days, "per_day": per_day, "per_channel": per_channel, "top_topics": top_topics,
        "by_level": by_level, "total": total, "fallbacks": fallbacks, "low_confidence": low,
        "fallback_rate": (fallbacks / total) if total else 0.0,
        "fallback_per_day": [(d, (f or 0) / n if n else 0.0) for d, n, f in fallback_per_day],
        "low_confidence_messages": low_confidence_messages(conn, 50),
        "threshold": low_confidence_threshold(),
    }
