"""Each conversation belongs to one person on one channel (issue 10, items 1 and 3), against the real bot.

- A REST caller naming a WhatsApp patient's number, in any spelling, talks in its own `rest:` conversation:
  nothing reaches the patient's log, escalation or phone, and `input_channel` in the body changes nothing.
- socket.io: session ids are made by the server (signed, unguessable); a socket can send only for a session it
  was given; a forged or borrowed id gets nothing; a reload with the stored id continues the conversation.
"""
from __future__ import annotations

import time

import pytest
import requests

from tests.channels.webhooks import (
    TIMEOUT,
    escalations_of,
    meta_notification,
    meta_sent_to,
    post_meta,
    socket_session,
    user_events,
    wait_events,
    wait_until,
)

pytestmark = [pytest.mark.security, pytest.mark.e2e]
RED_FLAG = "I heard a loud pop in my achilles and now I can't walk"


def rest(channel_bot, body: dict) -> requests.Response:
    return requests.post(f"{channel_bot.rasa_url}/webhooks/rest/webhook", json=body, timeout=TIMEOUT)


def test_rest_cannot_write_into_a_whatsapp_patients_conversation(channel_bot):
    number = f"4477009{int(time.time() * 1000) % 100000:05d}"
    patient = f"whatsapp:+{number}"
    assert post_meta(channel_bot, meta_notification(number, RED_FLAG)).status_code == 200
    wait_until(lambda: escalations_of(channel_bot.database_url, patient), what="the patient's escalation")
    wait_until(lambda: meta_sent_to(channel_bot, number), what="the advice on WhatsApp")
    events_before = wait_events(channel_bot.database_url, patient, 1)
    time.sleep(2)  # the rest of the patient's turn (contact offer) goes out
    sent_before = meta_sent_to(channel_bot, number)

    for sender in (number, f"+{number}", patient, f"twilio:+{number}"):
        for message in ("yes", "Mallory Attacker", "+447700900999"):
            answer = rest(channel_bot, {"sender": sender, "message": message, "input_channel": "whatsapp"})
            assert answer.status_code == 200
            assert all(reply.get("recipient_id") == sender for reply in answer.json()), \
                "REST replies name the caller's own sender"
        stored = user_events(channel_bot.database_url, f"rest:{sender}")
        assert [e["text"] for e in stored] == ["yes", "Mallory Attacker", "+447700900999"]
        assert {e["input_channel"] for e in stored} == {"rest"}, "input_channel in the body is ignored"

    assert user_events(channel_bot.database_url, patient) == events_before
    assert {e["input_channel"] for e in events_before} == {"whatsapp"}
    [escalation] = escalations_of(channel_bot.database_url, patient)
    assert escalation["contact_name"] is None and escalation["contact_details"] is None
    time.sleep(1)
    assert len(meta_sent_to(channel_bot, number)) == len(sent_before), "nothing reached the patient's phone"


@pytest.mark.parametrize("body, reason", [
    ({"sender": ["whatsapp:+447700900123"], "message": "hi"}, "sender must be a non-empty string"),
    ({"sender": "", "message": "hi"}, "sender must be a non-empty string"),
    ({"sender": "x" * 129, "message": "hi"}, "at most 128"),
    ({"sender": "me", "message": {"text": "hi"}}, "message must be a string"),
    (["sender", "message"], "JSON object"),
])
def test_rest_refuses_senders_and_messages_of_the_wrong_shape(channel_bot, body, reason):
    answer = rest(channel_bot, body)
    assert answer.status_code == 400 and reason in answer.json()["error"]


def test_socket_session_ids_are_made_by_the_server_and_signed(channel_bot):
    chosen = "0123456789abcdef0123456789abcdef"  # the old format: any 32 hex digits were accepted
    first, confirmed, _ = socket_session(channel_bot.rasa_url, chosen)
    second, other, _ = socket_session(channel_bot.rasa_url, None)
    forged_client, forged, _ = socket_session(channel_bot.rasa_url, confirmed[0].rsplit(".", 1)[0] + ".AAAA")
    try:
        assert confirmed[0] != chosen, "a client cannot choose its session id"
        token, _, signature = confirmed[0].rpartition(".")
        assert len(token) >= 32 and signature, "a random token (>= 192 bits) with a signature"
        assert other[0] != confirmed[0]
        assert forged[0] not in (confirmed[0], forged_client and confirmed[0].rsplit(".", 1)[0] + ".AAAA")
    finally:
        for client in (first, second, forged_client):
            client.disconnect()


def test_a_socket_cannot_send_for_another_sockets_session_but_a_reload_continues(channel_bot):
    owner, confirmed, owner_replies = socket_session(channel_bot.rasa_url)
    session_id = confirmed[0]
    conversation = "web:" + session_id.rsplit(".", 1)[0]
    intruder, _, intruder_replies = socket_session(channel_bot.rasa_url)
    try:
        owner.emit("user_uttered", {"message": "do heel lifts help?", "session_id": session_id})
        wait_until(lambda: [r for r in owner_replies if "Sources:" in (r.get("text") or "")],
                   what="the owner's answer")
        intruder.emit("user_uttered", {"message": "Mallory Attacker", "session_id": session_id})
        refusal = wait_until(lambda: intruder_replies, what="the intruder's refusal")
        assert refusal[0]["metadata"]["error"] == "session" and "not valid" in refusal[0]["text"]
    finally:
        owner.disconnect()
        intruder.disconnect()
    time.sleep(1)
    assert [e["text"] for e in wait_events(channel_bot.database_url, conversation, 1)] == ["do heel lifts help?"]

    reloaded, again, replies = socket_session(channel_bot.rasa_url, session_id)  # the widget after a reload
    try:
        assert again == [session_id], "the stored id continues the conversation"
        reloaded.emit("user_uttered", {"message": "what about insertional?", "session_id": session_id})
        wait_until(lambda: replies, what="the answer after the reload")
    finally:
        reloaded.disconnect()
    texts = [e["text"] for e in wait_events(channel_bot.database_url, conversation, 2)]
    assert texts == ["do heel lifts help?", "what about insertional?"]
