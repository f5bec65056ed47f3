"""Keep `conversation_summaries` up to date from Rasa's `events` table, incrementally (by last event id)."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, bindparam, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from bot.escalations import Escalation
from bot.settings import settings
from bot.staff.models import (
    ConversationSummary,
    ConversationText,
    ConversationTopic,
    LowConfidenceMessage,
    Review,
    SummaryState,
)
from bot.topics import card_for_intent

# Rasa's SQLTrackerStore.SQLEvent as a Core table (same columns and index name: either side may create it).
EVENTS = Table(
    "events", MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

FALLBACK_ACTIONS = {"action_fallback_retrieve", "action_default_fallback", "action_two_stage_fallback"}
FALLBACK_INTENTS = {"nlu_fallback", "out_of_scope"}
LEVEL_ORDER = {"soon": 1, "same_day": 2, "emergency": 3}
SEARCH_TEXT_LIMIT = 4000  # characters of user text kept per conversation for search
STATE_KEY = "summaries"

_refresh_lock = threading.Lock()

SUMMARY = ConversationSummary.__table__
TOPICS = ConversationTopic.__table__
SEARCH = ConversationText.__table__
LOWCONF = LowConfidenceMessage.__table__
STATE = SummaryState.__table__
ESCALATIONS = Escalation.__table__
REVIEWS = Review.__table__




def low_confidence_threshold() -> float:
    """Below this confidence an answered message counts as low confidence, worth a staff look.

    It sits above the FallbackClassifier's threshold (config.yml: below that the bot does not answer from a card
    at all), so the band in between is what the bot answered while unsure. CLINIC_LOW_CONFIDENCE sets it.
    """
    return settings().low_confidence


def to_datetime(timestamp: float | None) -> datetime:
    """A Rasa event timestamp (Unix seconds) as a naive UTC datetime."""
    if timestamp is None:
        return datetime.now(timezone.utc).replace(tzinfo=None)
    return datetime.fromtimestamp(float(timestamp), tz=timezone.utc).replace(tzinfo=None)


def parse_event(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def ensure_events_table(engine: Engine) -> None:
    """Create Rasa's `events` table if the bot has not written to this database yet (same schema as Rasa)."""
    EVENTS.create(engine, checkfirst=True)


@dataclass
class _Draft:
    """A conversation summary being updated in memory."""

    sender_id: str
    exists: bool
    row: dict[str, Any]
    topics: set[str] = field(default_factory=set)
    new_topics: set[str] = field(default_factory=set)
    text: str = ""
    text_exists: bool = False
    text_changed: bool = False


def _new_row(sender_id: str, at: datetime) -> dict[str, Any]:
    return {
        "sender_id": sender_id, "channel": None, "started_at": at, "started_day": at.strftime("%Y-%m-%d"),
        "last_event_at": at, "user_messages": 0, "bot_messages": 0, "topics": "", "first_message": None,
        "escalated": False, "escalation_level": None, "red_flag": False, "fallback": False,
        "low_confidence": False, "unsure": False, "min_confidence": None, "reviewed": False,
        "last_event_id": 0,
    }


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _apply_event(draft: _Draft, event_id: int, type_name: str, timestamp: float | None,
                 intent_name: str | None, action_name: str | None, data: dict[str, Any],
                 low_conf_rows: list[dict]) -> None:
    row = draft.row
    at = to_datetime(timestamp)
    if at < row["started_at"]:
        row["started_at"], row["started_day"] = at, at.strftime("%Y-%m-%d")
    if at > row["last_event_at"]:
        row["last_event_at"] = at
    row["last_event_id"] = max(row["last_event_id"], event_id)
    if type_name == "user":
        row["user_messages"] += 1
        text = data.get("text") or ""
        if not row["channel"] and data.get("input_channel"):
            row["channel"] = str(data["input_channel"])[:64]
        if row["first_message"] is None and text:
            row["first_message"] = text[:200]
        parse = data.get("parse_data") or {}
        intent = parse.get("intent") or {}
        name = intent.get("name") or intent_name
        confidence = intent.get("confidence")
        low = name in FALLBACK_INTENTS or (confidence is not None and confidence < low_confidence_threshold())
        if name == "nlu_fallback":
            row["fallback"] = True
        if confidence is not None:
            row["min_confidence"] = (confidence if row["min_confidence"] is None
                                     else min(row["min_confidence"], confidence))
        if low and text:
            row["low_confidence"] = True
            low_conf_rows.append({"event_id": event_id, "sender_id": draft.sender_id, "text": text,
                                  "intent": name, "confidence": confidence, "at": at})
        red_flags = parse.get("red_flags") or {}
        if red_flags.get("level") or red_flags.get("flags"):
            row["red_flag"] = True
        topic = card_for_intent(name)
        if topic:
            draft.new_topics.add(topic)
        if text and len(draft.text) < SEARCH_TEXT_LIMIT:
            draft.text = (draft.text + "\n" + text.lower())[:SEARCH_TEXT_LIMIT].lstrip("\n")
            draft.text_changed = True
    elif type_name == "bot":
        row["bot_messages"] += 1
        grounding = ((data.get("metadata") or {}).get("grounding") or {})
        topic = grounding.get("topic")
        if isinstance(topic, str) and topic:
            draft.new_topics.add(topic[:64])
    elif type_name == "action" and (action_name or data.get("name")) in FALLBACK_ACTIONS:
        row["fallback"] = True


def _load_drafts(conn: Connection, senders: list[str], first_seen: dict[str, datetime]) -> dict[str, _Draft]:
    drafts: dict[str, _Draft] = {}
    for chunk in _chunks(senders):
        for row in conn.execute(select(SUMMARY).where(SUMMARY.c.sender_id.in_(chunk))).mappings():
            drafts[row["sender_id"]] = _Draft(row["sender_id"], True, dict(row))
        for row in conn.execute(select(TOPICS).where(TOPICS.c.sender_id.in_(chunk))):
            if row.sender_id in drafts:
                drafts[row.sender_id].topics.add(row.topic)
        for row in conn.execute(select(SEARCH).where(SEARCH.c.sender_id.in_(chunk))):
            if row.sender_id in drafts:
                drafts[row.sender_id].text, drafts[row.sender_id].text_exists = row.text, True
    for sender in senders:
        if sender not in drafts:
            drafts[sender] = _Draft(sender, False, _new_row(sender, first_seen[sender]))
    return drafts


def _escalation_levels(conn: Connection, senders: Iterable[str]) -> dict[str, str]:
    """The most severe escalation level per conversation."""
    levels: dict[str, str] = {}
    for chunk in _chunks(sorted(set(senders))):
        rows = conn.execute(select(ESCALATIONS.c.conversation_id, ESCALATIONS.c.level)
                            .where(ESCALATIONS.c.conversation_id.in_(chunk)))
        for sender, level in rows:
            if LEVEL_ORDER.get(level, 0) >= LEVEL_ORDER.get(levels.get(sender, ""), -1):
                levels[sender] = level
    return levels


def _write(conn: Connection, drafts: dict[str, _Draft], low_conf_rows: list[dict]) -> None:
    inserts, updates, topic_rows, text_inserts, text_updates = [], [], [], [], []
    for draft in drafts.values():
        draft.row["unsure"] = bool(draft.row["fallback"] or draft.row["low_confidence"])
        added = draft.new_topics - draft.topics
        draft.topics |= added
        draft.row["topics"] = ",".join(sorted(draft.topics))
        (updates if draft.exists else inserts).append(draft.row)
        topic_rows += [{"sender_id": draft.sender_id, "topic": topic} for topic in sorted(added)]
        if draft.text_changed:
            target = text_updates if draft.text_exists else text_inserts
            target.append({"sender_id": draft.sender_id, "text": draft.text})
    if inserts:
        conn.execute(SUMMARY.insert(), inserts)
    if updates:
        columns = [c.name for c in SUMMARY.columns if c.name != "sender_id"]
        statement = (SUMMARY.update().where(SUMMARY.c.sender_id == bindparam("b_sender_id"))
                     .values({name: bindparam(f"b_{name}") for name in columns}))
        conn.execute(statement, [{f"b_{k}": v for k, v in row.items()} for row in updates])
    if topic_rows:
        conn.execute(TOPICS.insert(), topic_rows)
    if text_inserts:
        conn.execute(SEARCH.insert(), text_inserts)
    if text_updates:
        conn.execute(SEARCH.update().where(SEARCH.c.sender_id == bindparam("b_sender_id"))
                     .values(text=bindparam("b_text")),
                     [{"b_sender_id": r["sender_id"], "b_text": r["text"]} for r in text_updates])
    if low_conf_rows:
        conn.execute(LOWCONF.insert(), low_conf_rows)


def _state(conn: Connection) -> dict[str, Any]:
    query = select(STATE).where(STATE.c.key == STATE_KEY)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()  # one refresher at a time across processes
    row = conn.execute(query).mappings().first()
    if row is None:
        conn.execute(STATE.insert().values(key=STATE_KEY, last_event_id=0, last_escalation_id=0))
        return {"last_event_id": 0, "last_escalation_id": 0}
    return dict(row)


def refresh_batch(conn: Connection, batch_size: int = 5000) -> int:
    """Fold the next batch of new events (and new escalations) into the summaries; return events read."""
    state = _state(conn)
    rows = conn.execute(
        select(EVENTS).where(EVENTS.c.id > state["last_event_id"]).order_by(EVENTS.c.id).limit(batch_size)
    ).fetchall()
    new_escalations = conn.execute(
        select(ESCALATIONS.c.id, ESCALATIONS.c.conversation_id)
        .where(ESCALATIONS.c.id > state["last_escalation_id"]).order_by(ESCALATIONS.c.id)
    ).fetchall()
    if not rows and not new_escalations:
        return 0
    first_seen: dict[str, datetime] = {}
    for row in rows:
        first_seen.setdefault(row.sender_id, to_datetime(row.timestamp))
    escalated_senders = {r.conversation_id for r in new_escalations}
    senders = sorted(set(first_seen) | escalated_senders)
    drafts = _load_drafts(conn, sorted(first_seen), first_seen)
    # Escalations of conversations not in this batch: update their summary if it exists.
    others = [s for s in senders if s not in drafts]
    for chunk in _chunks(others):
        for row in conn.execute(select(SUMMARY).where(SUMMARY.c.sender_id.in_(chunk))).mappings():
            drafts[row["sender_id"]] = _Draft(row["sender_id"], True, dict(row))
    low_conf_rows: list[dict] = []
    for row in rows:
        _apply_event(drafts[row.sender_id], row.id, row.type_name, row.timestamp, row.intent_name,
                     row.action_name, parse_event(row.data), low_conf_rows)
    new_senders = [s for s, d in drafts.items() if not d.exists]
    for chunk in _chunks(new_senders):  # reviewed before the summary existed (or summaries rebuilt)
        reviewed = select(REVIEWS.c.sender_id).where(REVIEWS.c.sender_id.in_(chunk)).distinct()
        for (sender,) in conn.execute(reviewed):
            drafts[sender].row["reviewed"] = True
    levels = _escalation_levels(conn, [s for s, d in drafts.items()
                                       if not d.exists or s in escalated_senders])
    for sender, level in levels.items():
        drafts[sender].row["escalated"], drafts[sender].row["escalation_level"] = True, level
    _write(conn, drafts, low_conf_rows)
    conn.execute(STATE.update().where(STATE.c.key == STATE_KEY).values(
        last_event_id=rows[-1].id if rows else state["last_event_id"],
        last_escalation_id=new_escalations[-1].id if new_escalations else state["last_escalation_id"],
        updated_at=datetime.now(timezone.utc).replace(tzinfo=None)))
    return len(rows) + len(new_escalations)


def refresh_summaries(engine: Engine, batch_size: int = 5000, max_batches: int | None = None) -> int:
    """Bring the summaries up to date; return how many new events and escalations were folded in."""
    total, batches = 0, 0
    with _refresh_lock:
        while max_batches is None or batches < max_batches:
            try:
                with engine.begin() as conn:
                    done = refresh_batch(conn, batch_size)
            except IntegrityError:
                # Another process folded the same batch in first (SQLite has no row lock): read state again.
                batches += 1
                continue
            total += done
            batches += 1
            if done == 0:
                break
    return total


def summary_lag(conn: Connection) -> int:
    """How many events have not been summarised yet (0 when up to date)."""
    last = conn.execute(select(STATE.c.last_event_id).where(STATE.c.key == STATE_KEY)).scalar() or 0
    return conn.execute(select(func.count()).select_from(EVENTS).where(EVENTS.c.id > last)).scalar() or 0
