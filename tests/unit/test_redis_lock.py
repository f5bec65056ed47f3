"""The start-up patch bot/server/redis_lock.py on a real Redis: two lock stores (two Rasa servers) that lock one
conversation at the same moment take turns; tickets are never issued twice."""
from __future__ import annotations

import asyncio
import threading
from urllib.parse import urlsplit

import pytest
from rasa.core.lock_store import RedisLockStore

from bot.server import redis_lock
from bot.server.patches import PATCHES
from tests.servers import redis_url  # noqa: F401 - pytest fixture

pytestmark = pytest.mark.postgres  # needs the real servers of tests/servers.py, like the other real-server tests


@pytest.fixture
def patched():
    saved = {name: getattr(RedisLockStore, name) for name in ("issue_ticket", "update_lock", "cleanup")}
    redis_lock.apply()
    yield
    for name, method in saved.items():
        setattr(RedisLockStore, name, method)


def _stores(url: str, count: int = 2) -> list[RedisLockStore]:
    parts = urlsplit(url)
    return [RedisLockStore(host=parts.hostname, port=parts.port, db=0, key_prefix="clinic") for _ in range(count)]


def test_patch_is_registered():
    assert "bot.server.redis_lock:apply" in PATCHES


def test_tickets_issued_at_once_by_two_stores_are_all_different(patched, redis_url):  # noqa: F811
    stores = _stores(redis_url)
    tickets: list[int] = []
    start = threading.Barrier(8)

    def issue(store: RedisLockStore) -> None:
        start.wait()
        for _ in range(10):
            tickets.append(store.issue_ticket("runner-tickets", 60))

    threads = [threading.Thread(target=issue, args=(stores[n % 2],)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(tickets) == list(range(80)), "a ticket number was issued twice (or lost)"
    assert len(stores[0].get_lock("runner-tickets").tickets) == 80


def test_two_servers_locking_one_conversation_take_turns(patched, redis_url):  # noqa: F811
    stores = _stores(redis_url)
    inside: list[str] = []
    overlaps: list[str] = []

    async def handle(store: RedisLockStore, name: str) -> None:
        async with store.lock("runner-turns", lock_lifetime=30, wait_time_in_seconds=0.01):
            if inside:
                overlaps.append(f"{name} entered while {inside} held the lock")
            inside.append(name)
            await asyncio.sleep(0.05)
            inside.remove(name)

    def server(store: RedisLockStore, name: str) -> None:
        async def run() -> None:
            await asyncio.gather(*(handle(store, f"{name}-{n}") for n in range(5)))
        asyncio.run(run())

    threads = [threading.Thread(target=server, args=(store, f"server{n + 1}")) for n, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not overlaps, overlaps
    assert stores[0].get_lock("runner-turns") is None, "the last one out deletes the lock"
