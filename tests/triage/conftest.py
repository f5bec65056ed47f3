"""Shared fixtures for the escalation action tests: a temporary clinic database and tracker builders."""
from __future__ import annotations

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher


@pytest.fixture(autouse=True)
def clinic_db(tmp_path, monkeypatch):
    """Every test gets its own SQLite clinic database and no external notifiers."""
    from bot.db import engine_for

    monkeypatch.setenv("CLINIC_DATABASE_URL", f"sqlite:///{tmp_path / 'clinic.db'}")
    for name in ("CLINIC_SMTP_HOST", "CLINIC_STAFF_EMAIL", "CLINIC_STAFF_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    engine_for.cache_clear()
    yield tmp_path / "clinic.db"
    engine_for.cache_clear()


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def user_event(text: str, intent: str = "red_flag", red_flags: dict | None = None, channel: str = "rest") -> dict:
    parse_data = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": []}
    if red_flags is not None:
        parse_data["red_flags"] = red_flags
    return {"event": "user", "text": text, "parse_data": parse_data, "input_channel": channel}


def make_tracker(text: str = "I heard a pop in my achilles", intent: str = "red_flag", red_flags: dict | None = None,
                 slots: dict | None = None, earlier: list[dict] | None = None, active_loop: dict | None = None,
                 sender_id: str = "runner-1", channel: str = "rest") -> Tracker:
    """A tracker whose latest message is `text` with the detector's red_flags property."""
    if red_flags is None:
        from bot.triage.detect import detect_red_flags

        red_flags = detect_red_flags(text).to_dict()
    latest = user_event(text, intent, red_flags, channel)
    events = list(earlier or []) + [latest]
    return Tracker.from_dict({
        "sender_id": sender_id,
        "slots": slots or {},
        "latest_message": latest["parse_data"],
        "events": events,
        "paused": False,
        "latest_input_channel": channel,
        "active_loop": active_loop or {},
        "latest_action_name": "action_listen",
    })


@pytest.fixture
def tracker_factory():
    return make_tracker
