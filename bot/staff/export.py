"""Exports: one person's conversation (JSON, CSV) and the misunderstood messages as Rasa NLU YAML."""
from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.staff.models import MessageLabel, Review, Tag
from bot.staff.summaries import ESCALATIONS, EVENTS, parse_event, to_datetime

LABELS = MessageLabel.__table__


def _iso(value: Any) -> Any:
    return value.isoformat() + "Z" if isinstance(value, datetime) else value


def person_data(conn: Connection, sender_id: str) -> dict[str, Any]:
    """Everything the clinic holds about one conversation (subject-access request)."""
    events = []
    for row in conn.execute(select(EVENTS).where(EVENTS.c.sender_id == sender_id).order_by(EVENTS.c.id)):
        events.append({"id": row.id, "type": row.type_name, "time": _iso(to_datetime(row.timestamp)),
                       "intent": row.intent_name, "action": row.action_name, "event": parse_event(row.data)})
    escalations = [{k: _iso(v) for k, v in r.items()} for r in conn.execute(
        select(ESCALATIONS).where(ESCALATIONS.c.conversation_id == sender_id)).mappings()]
    reviews = [{k: _iso(v) for k, v in r.items()} for r in conn.execute(
        select(Review.__table__).where(Review.__table__.c.sender_id == sender_id)).mappings()]
    tags = [r.tag for r in conn.execute(select(Tag.__table__).where(Tag.__table__.c.sender_id == sender_id))]
    labels = [{k: _iso(v) for k, v in r.items()} for r in conn.execute(
        select(LABELS).where(LABELS.c.sender_id == sender_id)).mappings()]
    return {"conversation_id": sender_id, "events": events, "escalations": escalations, "reviews": reviews,
            "tags": tags, "message_labels": labels}


def person_json(conn: Connection, sender_id: str) -> str:
    return json.dumps(person_data(conn, sender_id), indent=2, ensure_ascii=False)


CSV_COLUMNS = ["time", "type", "text", "intent", "confidence", "entities", "red_flags", "action", "topic",
               "sources"]


def _csv_safe(value: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection): a cell starting with = + - @ is prefixed with '."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def person_csv(conn: Connection, sender_id: str) -> str:
    """The conversation as one CSV row per user message, bot reply and action."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for event in person_data(conn, sender_id)["events"]:
        data = event["event"]
        if event["type"] not in ("user", "bot", "action"):
            continue
        parse = data.get("parse_data") or {}
        grounding = (data.get("metadata") or {}).get("grounding") or {}
        row = {
            "time": event["time"], "type": event["type"], "text": data.get("text") or "",
            "intent": (parse.get("intent") or {}).get("name") or "",
            "confidence": (parse.get("intent") or {}).get("confidence") or "",
            "entities": ";".join(f"{e.get('entity')}={e.get('value')}" for e in parse.get("entities") or []),
            "red_flags": ";".join((parse.get("red_flags") or {}).get("flags") or []),
            "action": event["action"] or "", "topic": grounding.get("topic") or "",
            "sources": ";".join(s.get("id", "") for s in grounding.get("sources") or []
                                if isinstance(s, dict)),
        }
        writer.writerow([_csv_safe(str(row[c])) for c in CSV_COLUMNS])
    return out.getvalue()


def _yaml_block_line(text: str) -> str:
    """One training example on one line (Rasa's `examples: |` block is one example per line)."""
    return " ".join(text.split())


def nlu_yaml(conn: Connection) -> str:
    """The labelled misunderstood messages as Rasa NLU training data, ready to merge into data/nlu/."""
    query = select(LABELS.c.text, LABELS.c.correct_intent).order_by(LABELS.c.correct_intent, LABELS.c.id)
    by_intent: dict[str, list[str]] = defaultdict(list)
    for text, intent in conn.execute(query):
        line = _yaml_block_line(text)
        if line and line not in by_intent[intent]:
            by_intent[intent].append(line)
    lines = ['version: "3.1"', "# Misunderstood messages labelled in the staff console. Review, then merge",
             "# each block into the matching data/nlu/*.yml file.", "nlu:"]
    for intent in sorted(by_intent):
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines += [f"    - {example}" for example in by_intent[intent]]
    if not by_intent:
        lines[-1] = "nlu: []"
    return "\n".join(lines) + "\n"
