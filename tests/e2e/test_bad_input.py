"""Bad input gets a clear reply, never a crash, and nothing is lost from the conversation log."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from tests.rest import new_sender, reply_text, rest_conversation, say

pytestmark = pytest.mark.e2e

BAD_INPUTS = {
    "empty": "",
    "whitespace": "   \n\t ",
    # just within CLINIC_MAX_MESSAGE_CHARS (4096): read and answered; a longer one gets a clear 413
    # (tests/channels/test_channels_e2e.py, every channel)
    "very long": "my achilles hurts when i run " * 140,  # 4,060 characters
    "emoji only": "🏃‍♀️🦶😫🔥",
    "other language": "¿Puedo seguir corriendo con dolor en el tendón de Aquiles?",
    "html": "<script>alert('x')</script><b>do heel lifts help?</b>",
    "sql": "'; DROP TABLE events; -- do heel lifts help?",
    "control characters": "heel\x00lifts\x07?",
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_gets_a_reply_and_is_logged(running_bot, e2e_database_url, name):
    sender = new_sender("bad")
    message = BAD_INPUTS[name]
    replies = say(running_bot.rasa_url, sender, message)
    answers = [reply for reply in replies if "not a diagnosis" not in (reply.get("text") or "")]
    assert reply_text(answers).strip(), f"{name}: no reply (beyond the disclaimer) to {message[:60]!r}"
    if not message.strip():
        assert "didn't receive any text" in reply_text(answers)
    # the server is still healthy and the conversation continues
    assert "Sources:" in reply_text(say(running_bot.rasa_url, sender, "do heel lifts help?"))
    engine = create_engine(e2e_database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user'"),
                                  {"s": rest_conversation(sender)}).fetchall()
    assert len(rows) == 2, "both user messages are in the conversation log"


def test_sql_fragment_did_not_touch_the_log(running_bot, e2e_database_url):
    say(running_bot.rasa_url, new_sender("bad"), BAD_INPUTS["sql"])
    engine = create_engine(e2e_database_url)
    with engine.connect() as connection:
        stored = [json.loads(row.data)["text"] for row in connection.execute(
            text("SELECT data FROM events WHERE type_name = 'user'")).fetchall()]
    assert BAD_INPUTS["sql"] in stored
