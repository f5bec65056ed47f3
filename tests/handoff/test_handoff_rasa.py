"""Staff take over a live conversation through the Rasa server's handoff endpoints (real bot on loopback)."""
from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import create_engine, text

from bot.handoff.channel import window_refusal
from bot.handoff.token import handoff_token
from tests.rest import new_sender, reply_text, say

pytestmark = pytest.mark.e2e

STAFF = {"staff_id": "anna", "staff_name": "Anna"}


def conversation_of(database_url: str, sender: str) -> str:
    """The stored conversation id of a REST sender (namespaced by channel, e.g. rest:<sender>)."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        ids = [row[0] for row in conn.execute(text("SELECT DISTINCT sender_id FROM events"))
               if row[0].endswith(sender)]
    engine.dispose()
    assert len(ids) == 1, ids
    return ids[0]


def events_of(database_url: str, conversation: str) -> list[dict]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": conversation})
        events = [json.loads(row[0]) for row in rows]
    engine.dispose()
    return events


def handoff(rasa_url: str, operation: str, token: str | None = None, **body) -> requests.Response:
    headers = {"Authorization": f"Bearer {token if token is not None else handoff_token()}"}
    return requests.post(f"{rasa_url}/webhooks/handoff/{operation}", json=body, headers=headers, timeout=30)


def test_take_over_pauses_the_bot_staff_reply_is_logged_and_hand_back_resumes(running_bot, e2e_database_url):
    sender = new_sender("handoff")
    assert reply_text(say(running_bot.rasa_url, sender, "hello"))
    conversation = conversation_of(e2e_database_url, sender)

    taken = handoff(running_bot.rasa_url, "take_over", conversation_id=conversation, **STAFF)
    assert taken.status_code == 200, taken.text
    assert taken.json()["state"] == "staff"

    # while staff have it, the bot says nothing, but the visitor's words are in the log
    assert say(running_bot.rasa_url, sender, "do heel lifts help?") == []
    reply = handoff(running_bot.rasa_url, "reply", conversation_id=conversation, text="Hi, Anna here.", **STAFF)
    assert reply.status_code == 200, reply.text
    events = events_of(e2e_database_url, conversation)
    assert any(e["event"] == "user" and e["text"] == "do heel lifts help?" for e in events)
    staff_messages = [e for e in events if e["event"] == "bot" and (e.get("metadata") or {}).get("author") == "staff"]
    assert [m["text"] for m in staff_messages] == [
        "Anna from Riverside Sports Physiotherapy has joined the conversation.", "Hi, Anna here."]
    assert all(m["metadata"]["staff_id"] == "anna" for m in staff_messages)
    assert any(e["event"] == "pause" for e in events)

    back = handoff(running_bot.rasa_url, "hand_back", conversation_id=conversation, **STAFF)
    assert back.status_code == 200 and back.json()["state"] == "bot"
    answer = reply_text(say(running_bot.rasa_url, sender, "do heel lifts help?"))
    assert "heel" in answer.lower() and "Sources" in answer


def test_a_red_flag_during_a_handoff_still_gets_the_urgent_advice(running_bot, e2e_database_url, monkeypatch):
    from bot.handoff import store

    monkeypatch.setenv("CLINIC_DATABASE_URL", e2e_database_url)  # read the bot's handoff table
    sender = new_sender("handoff-rf")
    say(running_bot.rasa_url, sender, "hi")
    conversation = conversation_of(e2e_database_url, sender)
    assert handoff(running_bot.rasa_url, "take_over", conversation_id=conversation, **STAFF).status_code == 200
    advice = reply_text(say(running_bot.rasa_url, sender,
                            "I just heard a loud pop in my achilles and now I can't walk"))
    assert "999" in advice or "today" in advice.lower()
    assert store.get(conversation).red_flag_alert is True
    # still with staff: an ordinary question gets no bot answer
    assert say(running_bot.rasa_url, sender, "how long does recovery take?") == []


def test_handoff_endpoints_refuse_outsiders_and_bad_requests(running_bot, e2e_database_url):
    sender = new_sender("handoff-auth")
    say(running_bot.rasa_url, sender, "hi")
    conversation = conversation_of(e2e_database_url, sender)
    assert handoff(running_bot.rasa_url, "take_over", token="wrong", conversation_id=conversation,
                   **STAFF).status_code == 401
    no_header = requests.post(f"{running_bot.rasa_url}/webhooks/handoff/take_over", timeout=10,
                              json={"conversation_id": conversation, **STAFF})
    assert no_header.status_code == 401
    assert handoff(running_bot.rasa_url, "reply", conversation_id=conversation, text="hello",
                   **STAFF).status_code == 409  # not taken over yet
    assert handoff(running_bot.rasa_url, "take_over", conversation_id="nobody-" + sender,
                   **STAFF).status_code == 404
    assert handoff(running_bot.rasa_url, "take_over", conversation_id=conversation).status_code == 400
    assert handoff(running_bot.rasa_url, "explode", conversation_id=conversation, **STAFF).status_code == 404
    # nothing was paused by the refused calls: the bot still answers
    assert reply_text(say(running_bot.rasa_url, sender, "do heel lifts help?"))


def test_whatsapp_replies_outside_the_24_hour_window_are_refused_with_the_reason():
    now = 1_000_000.0
    assert window_refusal("whatsapp", now - 3600, now) is None
    assert window_refusal("telegram", now - 90_000, now) is None
    refusal = window_refusal("twilio", now - 30 * 3600, now)
    assert refusal is not None and "24 hours" in refusal and "30 hours ago" in refusal
