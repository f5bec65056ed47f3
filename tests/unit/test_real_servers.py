"""The embedded defaults have real counterparts: the conversation log and knowledge base on PostgreSQL,
and Rasa's lock store on Redis, each against a real server started for the test."""
from __future__ import annotations

import asyncio

import pytest
import redis
import yaml
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import create_engine, text

from bot.runtime_config import plan_channels, write_runtime_files
from bot.topic_wiring import rasa_domain
from bot.tracker_store import ClinicSQLTrackerStore
from tests.servers import postgres_server, postgres_url, redis_url  # noqa: F401 - pytest fixtures

pytestmark = pytest.mark.postgres


def test_conversation_log_on_postgresql_survives_a_new_store_instance(postgres_url, monkeypatch):  # noqa: F811
    monkeypatch.setenv("CLINIC_DATABASE_URL", postgres_url)
    domain = rasa_domain()
    tracker = DialogueStateTracker.from_events("runner-pg", [
        ActionExecuted("action_listen"),
        UserUttered("can i keep running?", {"name": "ask_keep_running", "confidence": 0.93}),
        BotUttered("You can often keep running ... Sources: ..."),
    ])
    asyncio.run(ClinicSQLTrackerStore(domain=domain).save(tracker))
    reloaded = asyncio.run(ClinicSQLTrackerStore(domain=domain).retrieve("runner-pg"))
    assert reloaded.latest_message.intent["name"] == "ask_keep_running"
    with create_engine(postgres_url).connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM events WHERE sender_id = 'runner-pg'")).scalar()
    assert count == 3


def test_knowledge_base_builds_and_answers_from_postgresql(postgres_url, monkeypatch):  # noqa: F811
    from knowledge import answers
    from knowledge.build import CARDS_DIR, SOURCES_DIR, build

    report = build(SOURCES_DIR, CARDS_DIR, postgres_url, progress=False)
    assert report.cards == len(list(CARDS_DIR.glob("*.yml")))
    build(SOURCES_DIR, CARDS_DIR, postgres_url, progress=False)  # idempotent on PostgreSQL too
    monkeypatch.setenv("CLINIC_KB_DATABASE_URL", postgres_url)  # answers are cached per database URL
    answer = answers.answer_for_topic("recovery_time")
    assert "4–6 weeks" in answer.text and answer.sources


def test_redis_lock_store_from_the_runtime_endpoints(redis_url, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("CLINIC_REDIS_URL", redis_url)
    endpoints_file, _ = write_runtime_files(5055, plan_channels(environ={}), folder=tmp_path)
    settings = dict(yaml.safe_load(endpoints_file.read_text())["lock_store"])
    store = LockStore.create(EndpointConfig(url=settings.pop("url"), type=settings.pop("type"), **settings))
    assert isinstance(store, RedisLockStore)

    async def hold_lock() -> list[bytes]:
        async with store.lock("runner-redis"):
            return redis.Redis.from_url(redis_url).keys("*")

    keys = asyncio.run(hold_lock())
    assert any(b"runner-redis" in key for key in keys), keys
