"""Realistic Rasa tracker-store rows for the staff console tests and the benchmark."""
from __future__ import annotations

import json
import time
import uuid
from typing import Any

from sqlalchemy.engine import Connection, Engine

from bot.staff.summaries import EVENTS


def user(text: str, intent: str, confidence: float = 0.93, entities: list[dict] | None = None,
         red_flags: dict | None = None, channel: str = "rest") -> dict[str, Any]:
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities or [],
        "intent_ranking": [{"name": intent, "confidence": confidence},
                           {"name": "ask_symptoms", "confidence": round((1 - confidence) / 2, 3)}],
        "message_id": uuid.uuid4().hex,
    }
    if red_flags is not None:
        parse["red_flags"] = red_flags
    return {"event": "user", "text": text, "parse_data": parse, "input_channel": channel,
            "message_id": parse["message_id"], "metadata": {}}


def bot(text: str, topic: str | None = None, sources: list[dict] | None = None,
        buttons: list[dict] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if topic:
        metadata["grounding"] = {"topic": topic, "sources": sources or [], "disagreement": None}
    return {"event": "bot", "text": text, "data": {"buttons": buttons or []}, "metadata": metadata}


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name, "policy": "RulePolicy", "confidence": 1.0}


def rows_for(sender_id: str, events: list[dict[str, Any]], start: float | None = None,
             step: float = 2.0) -> list[dict[str, Any]]:
    """Table rows for a conversation, as Rasa's SQLTrackerStore writes them."""
    start = time.time() if start is None else start
    rows = []
    for index, event in enumerate(events):
        event = dict(event, timestamp=start + index * step)
        is_user, is_action = event["event"] == "user", event["event"] == "action"
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name") if is_user else None
        rows.append({"sender_id": sender_id, "type_name": event["event"], "timestamp": event["timestamp"],
                     "intent_name": intent, "action_name": event.get("name") if is_action else None,
                     "data": json.dumps(event)})
    return rows


def insert(target: Engine | Connection, sender_id: str, events: list[dict[str, Any]],
           start: float | None = None) -> None:
    rows = rows_for(sender_id, events, start)
    if isinstance(target, Engine):
        with target.begin() as conn:
            conn.execute(EVENTS.insert(), rows)
    else:
        target.execute(EVENTS.insert(), rows)


HEEL_LIFT_SOURCES = [{"id": "nhs-achilles", "publisher": "NHS", "title": "Achilles tendinopathy"}]


def heel_lift_conversation(channel: str = "rest") -> list[dict[str, Any]]:
    return [
        action("action_session_start"),
        user("do heel lifts help?", "ask_heel_lifts", 0.97,
             entities=[{"entity": "treatment", "value": "heel lift", "start": 3, "end": 13}],
             channel=channel),
        action("action_answer_topic"),
        bot("Heel lifts can ease pain for a while.\nSources: NHS", topic="heel_lifts",
            sources=HEEL_LIFT_SOURCES),
        action("action_listen"),
    ]


def red_flag_conversation(text: str = "I heard a pop in my achilles and can't walk",
                          channel: str = "rest") -> list[dict[str, Any]]:
    return [
        user(text, "red_flag", 1.0, red_flags={"level": "emergency", "flags": ["pop_or_snap", "cannot_walk"],
                                              "negated": []}, channel=channel),
        action("action_escalate"),
        bot("This could be a rupture. Please go to A&E now."),
        action("action_listen"),
    ]


def fallback_conversation(text: str = "what about my knee?", channel: str = "rest") -> list[dict[str, Any]]:
    return [
        user(text, "nlu_fallback", 0.55, channel=channel),
        action("action_fallback_retrieve"),
        bot("That is not in the clinic's notes."),
        action("action_listen"),
    ]


def low_confidence_conversation(text: str = "achilles sore after long run shoes?",
                                channel: str = "rest") -> list[dict[str, Any]]:
    return [
        user(text, "ask_causes", 0.41, channel=channel),
        action("action_answer_topic"),
        bot("Common causes are a sudden increase in load.", topic="causes"),
        action("action_listen"),
    ]
