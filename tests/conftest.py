"""Shared fixtures: the domain, tracker builders for action tests, and a clinic database per test."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.paths import PROJECT_ROOT


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(text: str = "", intent: str | None = None, entities: list[dict] | None = None,
                 slots: dict[str, Any] | None = None, sender_id: str = "test-user",
                 extra_parse_data: dict | None = None, events: list[dict] | None = None) -> Tracker:
    """A tracker whose latest message is `text` classified as `intent`, built with Tracker.from_dict."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99} if intent else {},
        "entities": entities or [],
        "intent_ranking": [{"name": intent, "confidence": 0.99}] if intent else [],
    }
    latest.update(extra_parse_data or {})
    return Tracker.from_dict({
        "sender_id": sender_id,
        "slots": slots or {},
        "latest_message": latest,
        "events": events or [{"event": "user", "text": text, "parse_data": latest}],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    })


@pytest.fixture
def tracker_for():
    return make_tracker


@pytest.fixture
def clinic_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point the clinic database at a fresh SQLite file for this test."""
    from bot import db

    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    monkeypatch.setenv("CLINIC_DATABASE_URL", url)
    db.engine_for.cache_clear()
    yield url
    db.engine_for.cache_clear()
