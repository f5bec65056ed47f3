"""The tracker store's one-INSERT save on a real PostgreSQL server: the same rows as Rasa's own store."""
from __future__ import annotations

import asyncio

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text

from bot.topic_wiring import rasa_domain
from bot.tracker_store import ClinicSQLTrackerStore
from tests.servers import postgres_server, postgres_url  # noqa: F401 - pytest fixtures

pytestmark = pytest.mark.postgres

EVENTS = [ActionExecuted("action_listen"),
          UserUttered("can i keep running?", {"name": "ask_keep_running", "confidence": 0.93},
                      parse_data={"intent_ranking": [{"name": "ask_keep_running", "confidence": 0.93}]}),
          SlotSet("topic", "keep_running"), ActionExecuted("action_answer_topic"),
          BotUttered("You can often keep running ... Sources: ..."), ActionExecuted("action_listen")]


def _rows(url: str, sender: str) -> list[tuple]:
    with create_engine(url).connect() as connection:
        return [tuple(row) for row in connection.execute(text(
            "SELECT type_name, timestamp, intent_name, action_name, data FROM events WHERE sender_id = :s "
            "ORDER BY id"), {"s": sender})]


def test_same_rows_as_rasas_store_on_postgresql(postgres_url, monkeypatch):  # noqa: F811
    monkeypatch.setenv("CLINIC_DATABASE_URL", postgres_url)
    ours = ClinicSQLTrackerStore(domain=rasa_domain())
    stock = SQLTrackerStore(domain=rasa_domain(), host=postgres_url, dialect="postgresql")
    for store, sender in ((ours, "runner-pg-ours"), (stock, "runner-pg-stock")):
        tracker = DialogueStateTracker.from_events(sender, EVENTS[:2])
        asyncio.run(store.save(tracker))
        for event in EVENTS[2:]:
            tracker.update(event)
        asyncio.run(store.save(tracker))
    assert _rows(postgres_url, "runner-pg-ours") == _rows(postgres_url, "runner-pg-stock")
    assert len(_rows(postgres_url, "runner-pg-ours")) == len(EVENTS)
    reloaded = asyncio.run(ClinicSQLTrackerStore(domain=rasa_domain()).retrieve("runner-pg-ours"))
    assert list(reloaded.events) == EVENTS
