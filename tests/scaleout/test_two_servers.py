"""Two Rasa servers behind nginx (round robin), one PostgreSQL tracker store, one Redis lock store.

50 conversations x 20 messages; nginx's access log says which Rasa server answered each message. Asserted:
every message gets a reply; consecutive messages of a conversation are served by different servers (one
request in flight at a time, so nginx's round robin alternates strictly: 25 conversations interleaved in
turn order, an odd number, so each conversation's next message lands on the other server); each
conversation's events in the shared log are in order and complete, each message exactly once. A second part
sends two messages of one conversation at the same moment to the two servers: Redis' lock makes them take
turns, so both are logged once each and neither turn is interleaved with the other.
"""
from __future__ import annotations

import asyncio
import json
from collections import defaultdict

import aiohttp
import pytest
from sqlalchemy import create_engine, text

from bot.devtools.rest import REST_PATH, new_sender

pytestmark = [pytest.mark.scaleout, pytest.mark.postgres, pytest.mark.timeout(600)]

# Runners' questions in our own words; no red flags (those open the contact form and change the turn shape).
MESSAGES = [
    "hi there", "what is achilles tendinopathy exactly", "why does my achilles hurt after hill reps",
    "is it fine to keep jogging on a sore achilles", "how long until my achilles settles down",
    "do heel raises in my shoes help", "what trainers are best for a grumpy achilles",
    "which strengthening exercises should i start with", "should i stretch my calf muscles",
    "is resting and icing enough", "when can i start running again", "how do i tell if it is tendinopathy",
    "does a physio need to scan it", "is insertional pain different from higher up",
    "thanks, that helps", "what are the usual symptoms", "how many calf raises a day",
    "could my shoes be the cause", "can i still do a parkrun this weekend", "ok thank you, bye",
]
CONVERSATIONS = 50
STRICT = 25      # conversations sent one request at a time, interleaved (odd count: strict alternation)


async def _post(session, base: str, sender: str, message: str, turn: int) -> list[dict]:
    url = f"{base}{REST_PATH}?c={sender}&n={turn}"   # the query string only labels nginx's access log
    async with session.post(url, json={"sender": sender, "message": message},
                            timeout=aiohttp.ClientTimeout(total=120)) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def _interleaved(base: str, senders: list[str]) -> dict[str, list[list[dict]]]:
    """Turn by turn: message n of every conversation, one request at a time."""
    replies: dict[str, list[list[dict]]] = defaultdict(list)
    async with aiohttp.ClientSession() as session:
        for turn, message in enumerate(MESSAGES, start=1):
            for sender in senders:
                replies[sender].append(await _post(session, base, sender, message, turn))
    return replies


async def _concurrent(base: str, senders: list[str], in_flight: int = 8) -> dict[str, list[list[dict]]]:
    """Each conversation sends its messages in order; `in_flight` conversations at once."""
    replies: dict[str, list[list[dict]]] = defaultdict(list)
    queue = list(senders)

    async def worker(session) -> None:
        while queue:
            sender = queue.pop()
            for turn, message in enumerate(MESSAGES, start=1):
                replies[sender].append(await _post(session, base, sender, message, turn))

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(in_flight)))
    return replies


def _served_by(cluster) -> dict[tuple[str, int], str]:
    served = {}
    for line in cluster.nginx.access_log.read_text().splitlines():
        uri, upstream = line.split()[:2]
        if "?c=" in uri:
            query = dict(part.split("=", 1) for part in uri.split("?", 1)[1].split("&"))
            served[(query["c"], int(query["n"]))] = upstream
    return served


def _events(database_url: str, sender: str) -> list[dict]:
    """The logged events of a REST sender's conversation (its id may be namespaced: rest:<sender>)."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        ids = {row[0] for row in connection.execute(
            text("SELECT DISTINCT sender_id FROM events WHERE sender_id = :s OR sender_id LIKE :n"),
            {"s": sender, "n": f"%:{sender}"})}
        assert len(ids) == 1, f"{sender}: expected one conversation in the log, found {sorted(ids)}"
        rows = connection.execute(text("SELECT id, data FROM events WHERE sender_id = :s ORDER BY id"),
                                  {"s": ids.pop()}).all()
    engine.dispose()
    return [json.loads(data) for _id, data in rows]


def _assert_log_complete(events: list[dict], sent: list[str], sender: str) -> None:
    users = [e for e in events if e["event"] == "user"]
    assert [e["text"] for e in users] == sent, f"{sender}: user messages missing, doubled or out of order"
    # Within a turn Rasa stamps ActionExecuted after the events the action returned, so only the user turns
    # are strictly ordered in time: each message logged after the one before.
    timestamps = [e["timestamp"] for e in users]
    assert timestamps == sorted(timestamps), f"{sender}: user turns out of time order"
    starts = [i for i, e in enumerate(events) if e["event"] == "user"] + [len(events)]
    for first, following in zip(starts, starts[1:], strict=False):
        turn = events[first + 1:following]
        kinds = [e["event"] for e in turn]
        assert "bot" in kinds, f"{sender}: no bot reply logged after {events[first]['text']!r}"
        actions = [e.get("name") for e in turn if e["event"] == "action"]
        assert actions and actions[-1] == "action_listen" and actions.count("action_listen") == 1, \
            f"{sender}: turn after {events[first]['text']!r} not closed by one action_listen: {actions}"


def test_fifty_conversations_across_two_servers(cluster):
    assert len(cluster.bots) == 2
    strict = [new_sender(f"scale-strict{n}") for n in range(STRICT)]
    loose = [new_sender(f"scale-conc{n}") for n in range(CONVERSATIONS - STRICT)]
    replies = asyncio.run(_interleaved(cluster.url("all"), strict))
    replies.update(asyncio.run(_concurrent(cluster.url("all"), loose)))

    assert len(replies) == CONVERSATIONS
    for sender, turns in replies.items():
        assert len(turns) == len(MESSAGES)
        empty = [MESSAGES[n] for n, reply in enumerate(turns) if not any(r.get("text") for r in reply)]
        assert not empty, f"{sender}: no reply to {empty}"

    served = _served_by(cluster)
    upstreams = set(cluster.rasa_addresses())
    assert set(served.values()) == upstreams, "both Rasa servers must have answered"
    for sender in strict:
        servers = [served[(sender, n)] for n in range(1, len(MESSAGES) + 1)]
        same = [n for n in range(1, len(servers)) if servers[n] == servers[n - 1]]
        assert not same, f"{sender}: messages {same} landed on the server of the message before: {servers}"
    for sender in loose:
        assert len({served[(sender, n)] for n in range(1, len(MESSAGES) + 1)}) == 2, sender

    for sender in strict + loose:
        _assert_log_complete(_events(cluster.database_url, sender), MESSAGES, sender)


def test_two_messages_at_once_on_two_servers_are_taken_in_turn(cluster):
    """Both servers get a message of the same conversation at the same moment; the Redis lock orders them."""
    base = [f"http://{address}" for address in cluster.rasa_addresses()]

    async def burst(sender: str) -> list[list[dict]]:
        async with aiohttp.ClientSession() as session:
            await _post(session, base[0], sender, "hello", 0)
            return await asyncio.gather(_post(session, base[0], sender, "do heel lifts help", 1),
                                        _post(session, base[1], sender, "which exercises should i do", 2))

    for n in range(5):
        sender = new_sender(f"scale-burst{n}")
        answers = asyncio.run(burst(sender))
        assert all(any(r.get("text") for r in reply) for reply in answers), answers
        events = _events(cluster.database_url, sender)
        texts = [e["text"] for e in events if e["event"] == "user"]
        assert texts[0] == "hello" and sorted(texts[1:]) == ["do heel lifts help", "which exercises should i do"]
        _assert_log_complete(events, texts, sender)
