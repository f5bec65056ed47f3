"""Telegram, WhatsApp (Twilio and Meta), website and REST against the real bot, over HTTP on loopback.

Webhook requests are what the platforms send (tests/channels/webhooks.py); the bot's replies arrive at fake
platform APIs (fakes.py).
"""
from __future__ import annotations

import json
import random

import pytest
import requests
import socketio
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from bot.channels.whatsapp_cloud import signature_for
from tests.channels.conftest import PUBLIC_HOST, SENDER_RATE_LIMIT, TELEGRAM_LIMIT, TWILIO_LIMIT
from tests.channels.webhooks import (
    TIMEOUT,
    meta_notification,
    meta_sent_to,
    new_chat_id,
    new_whatsapp_number,
    post_meta,
    post_telegram,
    post_twilio,
    socket_session,
    telegram_sent_to,
    telegram_update,
    twilio_bodies,
    twilio_conversation,
    twilio_form,
    user_events,
    wait_events,
    wait_telegram,
    wait_until,
)
from tests.rest import new_sender, say

pytestmark = pytest.mark.e2e


# ---- Telegram ------------------------------------------------------------------------------------------

def test_all_channels_are_switched_on(channel_bot):
    enabled = " ".join(channel_bot.bot.plan.enabled)
    for name in ("ClinicRestInput", "ClinicSocketIOInput", "ClinicTelegramInput", "ClinicTwilioWhatsAppInput",
                 "WhatsAppCloudInput"):
        assert name in enabled


def test_telegram_webhook_was_registered_with_the_secret_token(channel_bot):
    registered = channel_bot.telegram.calls("/setWebhook")
    assert registered, "the bot did not call setWebhook at start-up"
    assert registered[-1].json["url"] == f"{PUBLIC_HOST}/webhooks/telegram/webhook"
    assert registered[-1].json["secret_token"] == channel_bot.env["TELEGRAM_SECRET_TOKEN"]
    assert channel_bot.env["TELEGRAM_TOKEN"] in registered[-1].path


@pytest.mark.parametrize("secret", [None, "wrong-token"])
def test_telegram_rejects_updates_without_the_secret_token(channel_bot, secret):
    chat_id = new_chat_id()
    answer = post_telegram(channel_bot, telegram_update(chat_id, text="do heel lifts help?"), secret=secret)
    assert answer.status_code == 403
    assert telegram_sent_to(channel_bot, chat_id) == []
    assert user_events(channel_bot.database_url, f"telegram:{chat_id}") == []


def test_telegram_answer_with_sources_and_inline_keyboard_then_a_button_press(channel_bot):
    chat_id = new_chat_id()
    assert post_telegram(channel_bot, telegram_update(chat_id, text="do heel lifts help?")).status_code == 200
    sent = wait_telegram(channel_bot, chat_id, 1, containing="Sources:")
    # The answer (~900 characters) arrives split at TELEGRAM_LIMIT; the keyboard sits under its last part.
    assert all(len(m["text"]) <= TELEGRAM_LIMIT for m in sent)
    answer = next(m for m in sent if "Sources:" in m["text"])
    earlier_parts = sent[:sent.index(answer)]
    assert any("heel lift" in m["text"].lower() and "reply_markup" not in m for m in earlier_parts)
    *keyboard, rating = answer["reply_markup"]["inline_keyboard"]  # the last row is 👍 / 👎 (test_channel_feedback)
    assert [button["text"] for button in rating] == ["👍", "👎"]
    assert keyboard and all(len(row) == 1 and row[0]["callback_data"].startswith("/") for row in keyboard)

    pressed = keyboard[-1][0]["callback_data"]
    before = len(sent)
    assert post_telegram(channel_bot, telegram_update(chat_id, callback_data=pressed)).status_code == 200
    after = wait_telegram(channel_bot, chat_id, before + 1, containing="Sources:")
    assert any("Sources:" in m["text"] for m in after[before:])
    assert channel_bot.telegram.calls("/answerCallbackQuery")
    texts = [event["text"] for event in user_events(channel_bot.database_url, f"telegram:{chat_id}")]
    assert texts == ["do heel lifts help?", pressed]


@pytest.mark.parametrize("content", [
    {"sticker": {"file_id": "CAACAgIAAxkBAAE", "file_unique_id": "x", "width": 512, "height": 512,
                 "is_animated": False, "is_video": False, "type": "regular", "emoji": "👍"}},
    {"photo": [{"file_id": "AgACAgQAAxkBAAE", "file_unique_id": "y", "width": 90, "height": 67}]},
    {"kind": "edited_message", "text": "do heel lifts help??", "edit_date": 1700000100},
])
def test_telegram_sticker_photo_and_edits_get_a_clear_reply(channel_bot, content):
    chat_id = new_chat_id()
    assert post_telegram(channel_bot, telegram_update(chat_id, **content)).status_code == 200
    reply = wait_telegram(channel_bot, chat_id, 1)[0]["text"]
    assert "text" in reply or "edit" in reply


# ---- WhatsApp via Twilio -------------------------------------------------------------------------------

@pytest.mark.parametrize("signature", [None, "c2lnbmVkIGJ5IHNvbWVvbmUgZWxzZQ==", "local-url"])
def test_twilio_rejects_unsigned_and_wrongly_signed_requests(channel_bot, signature):
    sender = new_whatsapp_number()
    form = twilio_form(sender, "do heel lifts help?")
    if signature == "local-url":  # signed, but for the loopback URL instead of the public one
        signature = RequestValidator(channel_bot.env["TWILIO_AUTH_TOKEN"]).compute_signature(
            f"{channel_bot.rasa_url}/webhooks/twilio/webhook", form)
    assert post_twilio(channel_bot, form, signature=signature).status_code == 403
    assert twilio_bodies(channel_bot, sender) == []
    assert user_events(channel_bot.database_url, twilio_conversation(sender)) == []


def test_twilio_answer_with_numbered_options_and_a_numbered_reply(channel_bot):
    sender = new_whatsapp_number()
    answer = post_twilio(channel_bot, twilio_form(sender, "do heel lifts help?"))
    assert answer.status_code == 200 and "<Response>" in answer.text
    bodies = channel_bot.twilio.wait_for(
        lambda _: [b for b in twilio_bodies(channel_bot, sender) if "Reply with a number:" in b]
        and twilio_bodies(channel_bot, sender), TIMEOUT)
    # The answer and its options (~1000 characters) arrive split at TWILIO_LIMIT.
    assert all(len(body) <= TWILIO_LIMIT for body in bodies)
    answer_parts = bodies[[i for i, b in enumerate(bodies) if "heel lift" in b.lower()][0]:]
    assert len(answer_parts) >= 2
    joined = "\n".join(bodies)
    assert "Sources:" in joined and "heel lift" in joined.lower()
    options = joined.split("Reply with a number:\n")[-1].splitlines()
    assert options[0].startswith("1. "), f"no numbered options in {joined!r}"

    count = len(bodies)
    number = len(options)  # choose the last option by its number; its title must not reach the NLU
    assert post_twilio(channel_bot, twilio_form(sender, str(number))).status_code == 200
    channel_bot.twilio.wait_for(lambda _: len(twilio_bodies(channel_bot, sender)) > count, TIMEOUT)
    events = wait_events(channel_bot.database_url, twilio_conversation(sender), 2)
    assert events[-1]["text"].startswith("/"), "the reply '2' must be mapped to the option's payload"
    assert all(event["input_channel"] == "twilio" for event in events)
    sent = channel_bot.twilio.calls("/Messages.json")[-1]
    assert sent.form["From"] == "whatsapp:+14155238886"
    assert sent.path == f"/2010-04-01/Accounts/{channel_bot.env['TWILIO_ACCOUNT_SID']}/Messages.json"


# ---- WhatsApp via Meta Cloud API -----------------------------------------------------------------------

def test_meta_verification_handshake(channel_bot):
    url = f"{channel_bot.rasa_url}/webhooks/whatsapp/webhook"
    good = {"hub.mode": "subscribe", "hub.verify_token": "fake-verify-token", "hub.challenge": "1158201444"}
    answer = requests.get(url, params=good, timeout=TIMEOUT)
    assert answer.status_code == 200 and answer.text == "1158201444"
    wrong = dict(good, **{"hub.verify_token": "nope"})
    assert requests.get(url, params=wrong, timeout=TIMEOUT).status_code == 403


def test_meta_rejects_unsigned_and_answers_signed_notifications(channel_bot):
    sender = f"4477009{random.randint(10000, 99999)}"
    url = f"{channel_bot.rasa_url}/webhooks/whatsapp/webhook"
    body = meta_notification(sender, "do heel lifts help?")
    headers = {"Content-Type": "application/json"}
    assert requests.post(url, data=body, headers=headers, timeout=TIMEOUT).status_code == 403
    wrong = dict(headers, **{"X-Hub-Signature-256": signature_for("another-secret", body)})
    assert requests.post(url, data=body, headers=wrong, timeout=TIMEOUT).status_code == 403
    signed = dict(headers, **{"X-Hub-Signature-256": signature_for("fake-app-secret", body)})
    assert requests.post(url, data=body, headers=signed, timeout=TIMEOUT).status_code == 200
    sent = channel_bot.graph.wait_for(
        lambda requests_: "Sources:" in json.dumps([r.json for r in requests_ if r.json.get("to") == sender])
        and [r.json for r in requests_ if r.json.get("to") == sender], TIMEOUT)
    assert sent[0]["messaging_product"] == "whatsapp"
    text_out = json.dumps(sent)
    assert "Sources:" in text_out
    assert all(r.headers["Authorization"] == "Bearer fake-graph-token" for r in channel_bot.graph.calls())
    assert [e["input_channel"] for e in wait_events(channel_bot.database_url, f"whatsapp:+{sender}", 1)] == [
        "whatsapp"]


# ---- the conversation log names each channel ------------------------------------------------------------

def test_conversation_log_records_the_channel_of_every_user_message(channel_bot):
    chat_id, number = new_chat_id(), new_whatsapp_number()
    post_telegram(channel_bot, telegram_update(chat_id, text="hi"))
    post_twilio(channel_bot, twilio_form(number, "hi"))
    rest_sender = new_sender("rest-channel")
    say(channel_bot.rasa_url, rest_sender, "hi")

    client = socketio.Client(reconnection=False)
    confirmed: list[str] = []
    replies: list[dict] = []
    client.on("session_confirm", lambda session_id: confirmed.append(session_id))
    client.on("bot_uttered", lambda message: replies.append(message))
    client.connect(channel_bot.rasa_url, socketio_path="/socket.io", transports=["polling"])
    try:
        client.emit("session_request", {"session_id": None})
        channel_bot.telegram.wait_for(lambda _: confirmed, 20)
        client.emit("user_uttered", {"message": "do heel lifts help?", "session_id": confirmed[0]})
        channel_bot.telegram.wait_for(lambda _: [r for r in replies if "Sources:" in (r.get("text") or "")],
                                      TIMEOUT)
    finally:
        client.disconnect()
    sourced = next(r for r in replies if "Sources:" in (r.get("text") or ""))
    assert sourced["metadata"]["grounding"]["sources"], "the widget needs the grounding metadata"
    assert "\n\nSources:" in sourced["text"], "the answer and its sources arrive as one message"

    channel_bot.telegram.wait_for(lambda _: telegram_sent_to(channel_bot, chat_id), TIMEOUT)
    channel_bot.twilio.wait_for(lambda _: twilio_bodies(channel_bot, number), TIMEOUT)
    web = "web:" + confirmed[0].rsplit(".", 1)[0]  # the session id is "<token>.<signature>"
    conversations = (f"telegram:{chat_id}", twilio_conversation(number), f"rest:{rest_sender}", web)
    channels = {conversation: {e["input_channel"] for e in wait_events(channel_bot.database_url, conversation, 1)}
                for conversation in conversations}
    assert channels == {conversations[0]: {"telegram"}, conversations[1]: {"twilio"},
                        conversations[2]: {"rest"}, conversations[3]: {"socketio"}}


# ---- limits and retries -------------------------------------------------------------------------------------

def test_a_sender_over_the_rate_limit_is_told_once_and_not_processed(channel_bot):
    chat_id = new_chat_id()
    for number in range(SENDER_RATE_LIMIT + 4):
        assert post_telegram(channel_bot, telegram_update(chat_id, text=f"hello {number}")).status_code == 200
    notices = channel_bot.telegram.wait_for(
        lambda _: [m for m in telegram_sent_to(channel_bot, chat_id) if "faster than I can answer" in m["text"]],
        TIMEOUT)
    assert len(notices) == 1, "told once, not once per skipped message"
    assert "999" in notices[0]["text"], "the notice says whom to call if it is urgent"
    wait_events(channel_bot.database_url, f"telegram:{chat_id}", SENDER_RATE_LIMIT)
    texts = [e["text"] for e in user_events(channel_bot.database_url, f"telegram:{chat_id}")]
    assert texts == [f"hello {number}" for number in range(SENDER_RATE_LIMIT)], "in order, the first ones only"


def too_long_message() -> str:
    """A pasted diary well over the 4096-character limit, with a red flag the bot cannot be trusted to see."""
    return ("Week of long runs, tendon stiff every morning and sore on the stairs. " * 70
            + "Then today a loud pop and now I cannot walk.")


def test_a_message_over_the_length_limit_gets_a_clear_reply_with_the_numbers_on_every_channel(channel_bot):
    text_ = too_long_message()
    assert len(text_) > 4096
    chat_id, number, wa_id = new_chat_id(), new_whatsapp_number(), f"4477008{random.randint(10000, 99999)}"
    assert post_telegram(channel_bot, telegram_update(chat_id, text=text_)).status_code == 200
    assert post_twilio(channel_bot, twilio_form(number, text_)).status_code == 200
    assert post_meta(channel_bot, meta_notification(wa_id, text_)).status_code == 200
    rest = requests.post(f"{channel_bot.rasa_url}/webhooks/rest/webhook", timeout=TIMEOUT,
                         json={"sender": new_sender("too-long"), "message": text_})
    assert rest.status_code == 413 and "4096" in rest.json()["error"]
    client, confirmed, replies = socket_session(channel_bot.rasa_url)
    try:
        client.emit("user_uttered", {"message": text_, "session_id": confirmed[0]})
        wait_until(lambda: replies, what="a widget reply")
    finally:
        client.disconnect()

    received = {
        "telegram": wait_telegram(channel_bot, chat_id, 1)[0]["text"],
        "twilio": wait_until(lambda: twilio_bodies(channel_bot, number), what="a Twilio reply")[0],
        "meta": wait_until(lambda: meta_sent_to(channel_bot, wa_id), what="a Meta reply")[0]["text"]["body"],
        "rest": rest.json()["reply"],
        "widget": replies[0]["text"],
    }
    for channel, reply in received.items():
        assert "too long" in reply and "999" in reply, (channel, reply)
    # the message was not read, so nothing of it is in the conversation log
    for conversation in (f"telegram:{chat_id}", twilio_conversation(number), f"whatsapp:+{wa_id}",
                         "web:" + confirmed[0].rsplit(".", 1)[0]):
        assert user_events(channel_bot.database_url, conversation) == [], conversation


def test_telegram_429_then_200_still_delivers_the_answer(channel_bot):
    chat_id = new_chat_id()
    api = channel_bot.telegram
    api.fail_next(f"{channel_bot.env['TELEGRAM_TOKEN']}/sendMessage", api.too_many_requests(retry_after=1))
    assert post_telegram(channel_bot, telegram_update(chat_id, text="do heel lifts help?")).status_code == 200
    sent = wait_telegram(channel_bot, chat_id, 1, containing="Sources:")
    refused = [r for r in api.calls("/sendMessage") if r.status == 429]
    assert refused and refused[-1].json["chat_id"] == str(chat_id)
    assert sent[0]["text"] == refused[-1].json["text"], "the refused message was sent again, first"


def test_twilio_status_callbacks_are_recorded_and_unsigned_ones_refused(channel_bot):
    sender = new_whatsapp_number()
    post_twilio(channel_bot, twilio_form(sender, "hi"))
    channel_bot.twilio.wait_for(lambda _: twilio_bodies(channel_bot, sender), TIMEOUT)
    sent = [r for r in channel_bot.twilio.calls("/Messages.json") if r.form.get("To") == sender]
    assert sent[0].form["StatusCallback"] == f"{PUBLIC_HOST}/webhooks/twilio/status"
    sid = recorded_sid(channel_bot, twilio_conversation(sender))
    status_url = f"{channel_bot.rasa_url}/webhooks/twilio/status"
    form = {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "63016"}
    assert requests.post(status_url, data=form, timeout=TIMEOUT).status_code == 403
    signature = RequestValidator(channel_bot.env["TWILIO_AUTH_TOKEN"]).compute_signature(
        f"{PUBLIC_HOST}/webhooks/twilio/status", form)
    answer = requests.post(status_url, data=form, headers={"X-Twilio-Signature": signature}, timeout=TIMEOUT)
    assert answer.status_code == 204
    with create_engine(channel_bot.database_url).connect() as connection:
        row = connection.execute(text("SELECT conversation_id, status, error FROM channel_messages "
                                      "WHERE platform_message_id = :s"), {"s": sid}).one()
    assert tuple(row) == (twilio_conversation(sender), "undelivered", "Twilio error 63016")


def recorded_sid(channel_bot, conversation: str) -> str:
    """The Twilio sid of the first message the bot recorded as sent in the conversation."""
    with create_engine(channel_bot.database_url).connect() as connection:
        sid = connection.execute(text("SELECT platform_message_id FROM channel_messages WHERE conversation_id = :c "
                                      "AND status = 'sent' ORDER BY id LIMIT 1"), {"c": conversation}).scalar()
    assert sid and sid.startswith("SM"), f"no sent message recorded for {conversation}"
    return sid
