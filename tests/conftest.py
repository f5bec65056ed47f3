"""Shared fixtures: the domain, tracker builders for action tests, a clinic database per test, and the real
bot (action server, Rasa server, web app on free loopback ports) started once per test session."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.build import MODEL_FILE
from bot.launcher import BotProcesses, start_bot
from tests.channel_bot import channel_bot  # noqa: F401 - the channel bot fixture, one for every test folder


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    from bot.topic_wiring import domain_dict

    return domain_dict()


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


# --- the real bot, shared by the end-to-end and browser tests (one start per test session) ---
@pytest.fixture(scope="session")
def e2e_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'clinic.db'}"


@pytest.fixture(scope="session")
def running_bot(e2e_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcesses]:
    if not MODEL_FILE.is_file():
        pytest.fail(f"{MODEL_FILE} is missing: run `make build` (make test does it) before the e2e tests")
    env = dict(os.environ, CLINIC_DATABASE_URL=e2e_database_url)
    bot = start_bot(MODEL_FILE, env=env, log_dir=Path(tmp_path_factory.mktemp("logs")))
    try:
        bot.wait_until_ready(timeout=240)
        yield bot
    finally:
        bot.stop()
