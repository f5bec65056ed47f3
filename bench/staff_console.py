"""Benchmark the staff console on 100,000 conversations: summary build, then list/filter/search/page-N.

    .venv/bin/python -m bench.staff_console [--conversations 100000] [--repeat 5]

Seeds a temporary SQLite database with Rasa `events` rows (about six per conversation, spread over a year,
four channels, 2% escalated), folds them into `conversation_summaries`, and times the console's queries
directly and through the Flask app (login, template rendering included). Prints a table; it is a
measurement, not a pass/fail test.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session

SECONDS_PER_DAY = 86400.0
CHANNELS = ["socketio", "rest", "telegram", "twilio"]
TOPIC_INTENTS = [("ask_heel_lifts", "heel_lifts", "do heel lifts help with achilles pain"),
                 ("ask_keep_running", "keep_running", "can i keep running with a sore achilles"),
                 ("ask_causes", "causes", "what causes achilles pain when running"),
                 ("ask_recovery_time", "recovery_time", "how long does achilles tendinopathy take to heal"),
                 ("ask_exercises", "exercises", "which calf exercises should i do"),
                 ("ask_footwear", "footwear", "are zero drop shoes bad for my achilles")]
WORDS = "morning stiffness swelling heel calf marathon hills intervals trail pain sore tight".split()


def seed(engine, conversations: int, rng: random.Random) -> int:
    from bot.escalations import Escalation
    from bot.staff.summaries import EVENTS

    now = time.time()
    rows: list[dict] = []
    escalations: list[dict] = []
    total = 0
    event_id = 0

    def flush() -> None:
        nonlocal rows, total
        with engine.begin() as conn:
            conn.execute(EVENTS.insert(), rows)
        total += len(rows)
        rows = []

    for n in range(conversations):
        sender = f"bench-{n:06d}"
        channel = rng.choice(CHANNELS)
        start = now - rng.random() * 365 * SECONDS_PER_DAY
        t = start
        for _turn in range(rng.choice([1, 1, 2, 3])):
            intent, topic, text = rng.choice(TOPIC_INTENTS)
            text = f"{text} {' '.join(rng.sample(WORDS, 3))} #{n}"
            confidence = rng.choice([0.98, 0.95, 0.9, 0.8, 0.45])
            fallback = rng.random() < 0.05
            if fallback:
                intent, confidence = "nlu_fallback", 0.55
            event_id += 1
            user = {"event": "user", "timestamp": t, "text": text, "input_channel": channel,
                    "parse_data": {"text": text, "intent": {"name": intent, "confidence": confidence},
                                   "entities": [],
                                   "intent_ranking": [{"name": intent, "confidence": confidence}]}}
            rows.append({"sender_id": sender, "type_name": "user", "timestamp": t, "intent_name": intent,
                         "action_name": None, "data": json.dumps(user)})
            action = "action_fallback_retrieve" if fallback else "action_answer_topic"
            rows.append({"sender_id": sender, "type_name": "action", "timestamp": t + 0.1,
                         "intent_name": None,
                         "action_name": action, "data": json.dumps({"event": "action", "name": action})})
            bot = {"event": "bot", "timestamp": t + 0.2, "text": f"About {topic}: ... Sources: NHS",
                   "data": {}, "metadata": {} if fallback else {"grounding": {
                       "topic": topic, "sources": [{"id": "nhs", "publisher": "NHS", "title": topic}]}}}
            rows.append({"sender_id": sender, "type_name": "bot", "timestamp": t + 0.2, "intent_name": None,
                         "action_name": None, "data": json.dumps(bot)})
            t += 30
        if rng.random() < 0.02:
            escalations.append({"conversation_id": sender, "channel": channel,
                                "level": rng.choice(["emergency", "same_day", "soon"]),
                                "flags": "pop_or_snap",
                                "message": "I heard a pop", "status": "open"})
        if len(rows) >= 20000:
            flush()
    if rows:
        flush()
    with Session(bind=engine) as session:
        session.bulk_insert_mappings(Escalation, escalations)
        session.commit()
    return total


def sample(function, repeat: int) -> list[float]:
    """Wall times in milliseconds of `repeat` calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def timed(function, repeat: int) -> float:
    """Median wall time in milliseconds."""
    return statistics.median(sample(function, repeat))


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def insert_one_conversation(engine, sender: str) -> None:
    """One more heel-lift conversation (user, action, bot), to time an incremental summary refresh."""
    from bot.staff.summaries import EVENTS

    now = time.time()
    text = "do heel lifts help with achilles pain"
    user = {"event": "user", "timestamp": now, "text": text, "input_channel": "rest",
            "parse_data": {"text": text, "intent": {"name": "ask_heel_lifts", "confidence": 0.97}, "entities": [],
                           "intent_ranking": [{"name": "ask_heel_lifts", "confidence": 0.97}]}}
    bot = {"event": "bot", "timestamp": now + 0.2, "text": "About heel lifts: ... Sources: NHS", "data": {},
           "metadata": {"grounding": {"topic": "heel_lifts",
                                      "sources": [{"id": "nhs", "publisher": "NHS", "title": "heel lifts"}]}}}
    with engine.begin() as conn:
        conn.execute(EVENTS.insert(), [
            {"sender_id": sender, "type_name": "user", "timestamp": now, "intent_name": "ask_heel_lifts",
             "action_name": None, "data": json.dumps(user)},
            {"sender_id": sender, "type_name": "action", "timestamp": now + 0.1, "intent_name": None,
             "action_name": "action_answer_topic",
             "data": json.dumps({"event": "action", "name": "action_answer_topic"})},
            {"sender_id": sender, "type_name": "bot", "timestamp": now + 0.2, "intent_name": None,
             "action_name": None, "data": json.dumps(bot)}])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", help="write the database here instead of a temp folder")
    parser.add_argument("--json", help="also write the list pages' HTTP p50/p95 (ms) to this JSON file")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="staff-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'clinic.db'}"
    os.environ["CLINIC_DATABASE_URL"] = url
    os.environ.setdefault("CLINIC_SECRET_KEY", "bench")

    from bot.staff.auth import create_user
    from bot.staff.db import staff_engine
    from bot.staff.queries import ConversationFilters, list_conversations
    from bot.staff.summaries import refresh_summaries

    engine = staff_engine(url)
    rng = random.Random(42)
    start = time.perf_counter()
    events = seed(engine, args.conversations, rng)
    seeded = time.perf_counter() - start
    start = time.perf_counter()
    folded = refresh_summaries(engine, batch_size=20000)
    built = time.perf_counter() - start
    start = time.perf_counter()
    refresh_summaries(engine)
    noop = (time.perf_counter() - start) * 1000
    insert_one_conversation(engine, "bench-new")
    start = time.perf_counter()
    refresh_summaries(engine)
    incremental = (time.perf_counter() - start) * 1000
    with Session(bind=engine) as session:
        create_user(session, "bench", "bench-password", "staff")
        session.commit()

    print(f"database: {url}")
    print(f"seeded {args.conversations:,} conversations / {events:,} events in {seeded:.1f} s; "
          f"first summary build folded {folded:,} events and escalations in {built:.1f} s "
          f"({events / built:,.0f} events/s)")
    print(f"refresh with nothing new: {noop:.1f} ms; "
          f"refresh after one new conversation: {incremental:.1f} ms\n")

    last_page = args.conversations // 50
    week_ago = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 7 * 86400))
    cases = [
        ("list, page 1 (newest first)", {}, 1),
        ("filter: channel=telegram", {"channel": "telegram"}, 1),
        ("filter: escalated=yes", {"escalated": "yes"}, 1),
        ("filter: fallback or low confidence", {"quality": "either"}, 1),
        ("filter: topic=heel_lifts", {"topic": "heel_lifts"}, 1),
        ("filter: reviewed=no", {"reviewed": "no"}, 1),
        ("filter: last 7 days", {"date_from": week_ago}, 1),
        ("filter: >= 3 user messages", {"min_messages": "3"}, 1),
        ("filters combined (channel+escalated+quality)", {"channel": "rest", "escalated": "no",
                                                          "quality": "low_confidence"}, 1),
        ("search: 'zero drop' (text in messages)", {"q": "zero drop"}, 1),
        ("search: rare word, 1 hit", {"q": f"#{args.conversations // 2} "}, 1),
        ("page 100", {}, 100),
        (f"page {last_page} (last)", {}, last_page),
        ("filter channel=rest, page 200", {"channel": "rest"}, 200),
    ]

    from bot.devtools.staff import login
    from bot.web.app import create_app

    app = create_app({"TESTING": True})
    client = login(app.test_client(), "bench", "bench-password").client

    print(f"| {'query':<46} | {'matches':>8} | {'SQL ms':>7} | {'HTTP ms':>7} |")
    print(f"|{'-' * 48}|{'-' * 9}:|{'-' * 8}:|{'-' * 8}:|")
    pages: dict[str, dict[str, float]] = {}
    for name, params, page in cases:
        filters = ConversationFilters.from_args(params)
        with engine.connect() as conn:
            _rows, total = list_conversations(conn, filters, page)
            sql_ms = timed(lambda: list_conversations(conn, filters, page), args.repeat)  # noqa: B023
        query = dict(params, page=str(page))
        http = sample(lambda: client.get("/staff/conversations", query_string=query),  # noqa: B023
                      args.repeat)
        http_ms = statistics.median(http)
        pages[name] = {"p50": http_ms, "p95": p95(http)}
        print(f"| {name:<46} | {total:>8,} | {sql_ms:>7.1f} | {http_ms:>7.1f} |")
    analytics_ms = timed(lambda: client.get("/staff/analytics"), max(1, args.repeat // 2))
    queue_ms = timed(lambda: client.get("/staff/api/escalations"), args.repeat)
    one = f"/staff/transcript/bench-{args.conversations // 3:06d}"
    transcript_ms = timed(lambda: client.get(one), args.repeat)
    print(f"| {'analytics page (5 SVG charts)':<46} | {'':>8} | {'':>7} | {analytics_ms:>7.1f} |")
    print(f"| {'escalation queue JSON (polled every 5 s)':<46} | {'':>8} | {'':>7} | {queue_ms:>7.1f} |")
    print(f"| {'one transcript':<46} | {'':>8} | {'':>7} | {transcript_ms:>7.1f} |")
    print(f"\nmedian of {args.repeat} runs; HTTP = Flask test client, login and template rendering included.")
    worst = max(pages, key=lambda name: pages[name]["p95"])
    print(f"list pages over HTTP: worst p95 {pages[worst]['p95']:.1f} ms ({worst}); target <= 200 ms")
    if args.json:
        Path(args.json).write_text(json.dumps({"conversations": args.conversations, "pages": pages}, indent=1))


if __name__ == "__main__":
    main()
