"""End to end over REST: the real servers answer the core question classes, log to SQL, survive a restart."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from tests.rest import new_sender, reply_text, rest_conversation, say

pytestmark = pytest.mark.e2e

CORE_QUESTIONS = {
    # question as a runner types it -> (words the answer must contain, topic card)
    "what causes achilles pain when running?": (["calf"], "causes"),
    "can i keep running with a sore achilles": (["hills"], "keep_running"),
    "do heel lifts help?": (["heel lift"], "heel_lifts"),
    "how long does achilles tendinopathy take to heal": (["4–6 weeks"], "recovery_time"),
}


@pytest.mark.parametrize("question", list(CORE_QUESTIONS))
def test_core_question_gets_a_sourced_answer(running_bot, question):
    words, _topic = CORE_QUESTIONS[question]
    text_out = reply_text(say(running_bot.rasa_url, new_sender(), question)).lower()
    for word in words:
        assert word.lower() in text_out, f"{question!r}: expected {word!r} in {text_out!r}"
    assert "sources:" in text_out


def test_first_reply_of_a_conversation_carries_the_disclaimer(running_bot):
    replies = say(running_bot.rasa_url, new_sender(), "hi")
    assert "not a diagnosis" in replies[0]["text"]
    assert len(replies) >= 2  # the disclaimer, then the greeting


def test_events_are_written_to_the_sql_log(running_bot, e2e_database_url):
    sender = new_sender("sqllog")
    say(running_bot.rasa_url, sender, "do heel lifts help?")
    engine = create_engine(e2e_database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT type_name, intent_name, action_name, data FROM events WHERE sender_id = :s ORDER BY id"),
            {"s": rest_conversation(sender)},
        ).fetchall()
    types = [row.type_name for row in rows]
    assert "user" in types and "bot" in types
    assert "ask_heel_lifts" in [row.intent_name for row in rows]
    assert "action_answer_topic" in [row.action_name for row in rows]
    bot_texts = [json.loads(row.data).get("text") or "" for row in rows if row.type_name == "bot"]
    assert any("Sources:" in t for t in bot_texts)


def test_conversation_survives_a_restart_of_the_rasa_server(running_bot):
    sender = new_sender("restart")
    say(running_bot.rasa_url, sender, "how long does it take to recover from achilles tendinopathy?")
    rasa_service = next(s for s in running_bot.services if s.name == "rasa server")
    rasa_service.stop()
    rasa_service.start(rasa_service.env)  # same database, same ports
    running_bot.wait_until_ready(timeout=240)
    # "tell me more" only makes sense if the server remembers the last topic from before the restart
    after = reply_text(say(running_bot.rasa_url, sender, "tell me more")).lower()
    assert "sources:" in after
    assert "which topic" not in after
