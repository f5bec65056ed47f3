"""The conversation log: the tracker store follows CLINIC_DATABASE_URL and keeps conversations across instances."""
from __future__ import annotations

import asyncio

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.paths import PROJECT_ROOT
from bot.tracker_store import ClinicSQLTrackerStore


def save_and_reload(url: str, monkeypatch) -> DialogueStateTracker:
    monkeypatch.setenv("CLINIC_DATABASE_URL", url)
    domain = Domain.load(str(PROJECT_ROOT / "domain"))
    store = ClinicSQLTrackerStore(domain=domain)
    tracker = DialogueStateTracker.from_events("runner-1", [
        ActionExecuted("action_listen"),
        UserUttered("do heel lifts help?", {"name": "ask_heel_lifts", "confidence": 0.97}),
        BotUttered("They can ease strain early on ... Sources: ..."),
    ])
    asyncio.run(store.save(tracker))
    # a new store instance stands for a restarted Rasa server
    return asyncio.run(ClinicSQLTrackerStore(domain=domain).retrieve("runner-1"))


def test_sqlite_file_from_url_keeps_the_conversation(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'nested' / 'clinic.db'}"
    reloaded = save_and_reload(url, monkeypatch)
    assert (tmp_path / "nested" / "clinic.db").is_file()
    assert reloaded.latest_message.text == "do heel lifts help?"
    assert reloaded.latest_message.intent["name"] == "ask_heel_lifts"
    assert [e.text for e in reloaded.events if isinstance(e, BotUttered)] == [
        "They can ease strain early on ... Sources: ..."]
