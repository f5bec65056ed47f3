"""The conversation log: the tracker store follows CLINIC_DATABASE_URL and keeps conversations across instances."""
from __future__ import annotations

import asyncio
import json

from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.topic_wiring import rasa_domain
from bot.tracker_store import SESSION_INDEX, ClinicSQLTrackerStore


def save_and_reload(url: str, monkeypatch) -> DialogueStateTracker:
    monkeypatch.setenv("CLINIC_DATABASE_URL", url)
    domain = rasa_domain()
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


def _store(url: str, monkeypatch) -> ClinicSQLTrackerStore:
    monkeypatch.setenv("CLINIC_DATABASE_URL", url)
    return ClinicSQLTrackerStore(domain=rasa_domain())


def _rows(url: str, sender: str) -> list[tuple]:
    from sqlalchemy import create_engine, text

    with create_engine(url).connect() as connection:
        return [tuple(row) for row in connection.execute(text(
            "SELECT type_name, intent_name, action_name, data FROM events WHERE sender_id = :s ORDER BY id"),
            {"s": sender})]


def _turn(tracker: DialogueStateTracker, text: str, intent: str) -> None:
    tracker.update(UserUttered(text, {"name": intent, "confidence": 0.9}))
    tracker.update(ActionExecuted("utter_" + intent))
    tracker.update(BotUttered(f"reply to {text}"))
    tracker.update(ActionExecuted("action_listen"))


def _conversation(store, sender: str) -> list[str]:
    """Two messages, a new session, two more: the stored rows must be the same whatever the store."""
    from rasa.shared.core.events import SessionStarted

    async def run() -> list[str]:
        tracker = await store.get_or_create_tracker(sender)
        _turn(tracker, "do heel lifts help?", "ask_heel_lifts")
        await store.save(tracker)
        for text in ("can i keep running?", "which shoes?"):
            tracker = await store.retrieve(sender)
            _turn(tracker, text, "ask_keep_running")
            await store.save(tracker)
            _turn(tracker, text + " again", "ask_keep_running")  # a second save of the same object
            await store.save(tracker)
        tracker = await store.retrieve(sender)
        tracker.update(ActionExecuted("action_session_start"))
        tracker.update(SessionStarted())
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)
        _turn(tracker, "new session question", "ask_causes")
        await store.save(tracker)
        tracker = await store.retrieve(sender)
        _turn(tracker, "and exercises?", "ask_exercises")
        await store.save(tracker)
        return [e.text for e in (await store.retrieve(sender)).events if isinstance(e, UserUttered)]

    return asyncio.run(run())


def test_same_rows_and_session_as_rasas_own_store(tmp_path, monkeypatch):
    from rasa.core.tracker_store import SQLTrackerStore

    ours_url = f"sqlite:///{tmp_path / 'ours.db'}"
    ours = _conversation(_store(ours_url, monkeypatch), "runner-2")
    rasa_db = tmp_path / "rasa.db"
    stock = SQLTrackerStore(domain=rasa_domain(), dialect="sqlite", db=str(rasa_db))
    theirs = _conversation(stock, "runner-2")
    assert ours == theirs == ["new session question", "and exercises?"]  # only the latest session is loaded
    texts = [json.loads(d).get("text") for t, _, _, d in _rows(ours_url, "runner-2") if t == "user"]
    assert texts == ["do heel lifts help?", "can i keep running?", "can i keep running? again", "which shoes?",
                     "which shoes? again", "new session question", "and exercises?"]  # each once, in order
    # Rasa's own store writes the same rows up to the double save after the new session start, where its
    # count restarts at the new session and it stores the old session again.
    theirs_rows = [(t, i, a) for t, i, a, _ in _rows(f"sqlite:///{rasa_db}", "runner-2")]
    ours_rows = [(t, i, a) for t, i, a, _ in _rows(ours_url, "runner-2")]
    first_session = ours_rows.index(("session_started", None, None), 1)
    assert ours_rows[:first_session + 2] == theirs_rows[:first_session + 2]
    assert len(theirs_rows) > len(ours_rows)


def test_save_after_retrieve_skips_the_count_query(tmp_path, monkeypatch):
    from sqlalchemy import event

    url = f"sqlite:///{tmp_path / 'count.db'}"
    store = _store(url, monkeypatch)
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_args: statements.append(statement.lower()))

    async def run() -> None:
        tracker = await store.get_or_create_tracker("runner-3")
        _turn(tracker, "hello", "greet")
        await store.save(tracker)
        statements.clear()
        tracker = await store.retrieve("runner-3")
        _turn(tracker, "do heel lifts help?", "ask_heel_lifts")
        await store.save(tracker)

    asyncio.run(run())
    assert not [s for s in statements if "count(" in s], statements
    assert sum(1 for s in statements if s.startswith("insert")) >= 1
    assert len([r for r in _rows(url, "runner-3") if r[0] == "user"]) == 2


def test_session_index_exists(tmp_path, monkeypatch):
    from sqlalchemy import create_engine, inspect

    url = f"sqlite:///{tmp_path / 'index.db'}"
    _store(url, monkeypatch)
    _store(url, monkeypatch)  # a second start finds it there
    names = {index["name"] for index in inspect(create_engine(url)).get_indexes("events")}
    assert SESSION_INDEX in names


def _all_columns(url: str, sender: str) -> list[tuple]:
    from sqlalchemy import create_engine, text

    with create_engine(url).connect() as connection:
        return [tuple(row) for row in connection.execute(text(
            "SELECT id, sender_id, type_name, timestamp, intent_name, action_name, data FROM events "
            "WHERE sender_id = :s ORDER BY id"), {"s": sender})]


def test_one_insert_writes_exactly_rasas_rows(tmp_path, monkeypatch):
    """The same events saved by Rasa's own store and by ours: every column of every row identical."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import SlotSet
    from sqlalchemy import event

    # no session start: Rasa's count of stored events (from the latest session start) is then exact as well
    events = [ActionExecuted("action_listen"),
              UserUttered("do heel lifts help?", {"name": "ask_heel_lifts", "confidence": 0.97},
                          [{"entity": "treatment", "value": "heel lifts", "start": 3, "end": 13}],
                          parse_data={"intent_ranking": [{"name": "ask_heel_lifts", "confidence": 0.97}]}),
              SlotSet("topic", "heel_lifts"), ActionExecuted("action_answer_topic"),
              BotUttered("They can ease strain early on.", {"buttons": [{"title": "more", "payload": "/more"}]}),
              ActionExecuted("action_listen")]
    ours_url = f"sqlite:///{tmp_path / 'ours.db'}"
    ours = _store(ours_url, monkeypatch)
    inserts: list[str] = []
    event.listen(ours.engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_args: inserts.append(statement) if statement.startswith("INSERT")
                 else None)
    stock = SQLTrackerStore(domain=rasa_domain(), dialect="sqlite", db=str(tmp_path / "rasa.db"))
    for store in (ours, stock):
        tracker = DialogueStateTracker.from_events("runner-4", events[:3])
        asyncio.run(store.save(tracker))
        for extra in events[3:]:
            tracker.update(extra)
        asyncio.run(store.save(tracker))
    assert len(inserts) == 2  # one statement per save
    ours_rows = _all_columns(ours_url, "runner-4")
    assert ours_rows == _all_columns(f"sqlite:///{tmp_path / 'rasa.db'}", "runner-4")
    assert [row[2] for row in ours_rows] == [e.type_name for e in events]
    reloaded = asyncio.run(_store(ours_url, monkeypatch).retrieve("runner-4"))
    assert list(reloaded.events) == events


def test_sqlite_connections_pooled_in_wal_mode(tmp_path, monkeypatch):
    from sqlalchemy import event
    from sqlalchemy.pool import QueuePool

    store = _store(f"sqlite:///{tmp_path / 'pool.db'}", monkeypatch)
    assert isinstance(store.engine.pool, QueuePool)
    connects: list[int] = []
    event.listen(store.engine, "connect", lambda *_args: connects.append(1))

    async def run() -> None:
        for n in range(5):
            tracker = await store.get_or_create_tracker(f"runner-5-{n}")
            _turn(tracker, "hello", "greet")
            await store.save(tracker)
            await store.retrieve(f"runner-5-{n}")

    asyncio.run(run())
    assert len(connects) <= 1  # the pool keeps the connection (Rasa's NullPool opened one per session)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_in_memory_sqlite_keeps_rasas_engine(monkeypatch):
    store = _store("sqlite://", monkeypatch)
    tracker = DialogueStateTracker.from_events("runner-6", [ActionExecuted("action_listen")])
    asyncio.run(store.save(tracker))
    assert asyncio.run(store.retrieve("runner-6")) is not None
