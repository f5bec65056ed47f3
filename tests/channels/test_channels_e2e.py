"""Telegram, WhatsApp (Twilio and Meta), website and REST against the real bot, over HTTP on loopback.

Webhook requests are what the platforms send; the bot's replies arrive at fake platform APIs (fakes.py).
"""
from __future__ import annotations

import json
import random
import uuid

import pytest
import requests
import socketio
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from bot.channels.whatsapp_cloud import signature_for
from tests.channels.conftest import PUBLIC_HOST, TELEGRAM_LIMIT, TWILIO_LIMIT
from tests.rest import new_sender, say

pytestmark = pytest.mark.e2e
TIMEOUT = 60


# ---- helpers -------------------------------------------------------------------------------------------

def telegram_update(chat_id: int, **content) -> dict:
    update_id = random.randint(1, 10**9)
    chat = {"id": chat_id, "first_name": "Sam", "type": "private"}
    user = {"id": chat_id, "is_bot": False, "first_name": "Sam"}
    if "callback_data" in content:
        return {"update_id": update_id, "callback_query": {
            "id": str(update_id), "from": user, "chat_instance": "1", "data": content["callback_data"],
            "message": {"message_id": 1, "date": 1700000000, "chat": chat, "text": "..."}}}
    kind = content.pop("kind", "message")
    return {"update_id": update_id, kind: {"message_id": update_id % 1000, "date": 1700000000,
                                           "chat": chat, "from": user, **content}}


def post_telegram(channel_bot, update: dict, secret: str | None = "default") -> requests.Response:
    headers = {}
    if secret is not None:
        token = channel_bot.env["TELEGRAM_SECRET_TOKEN"] if secret == "default" else secret
        headers["X-Telegram-Bot-Api-Secret-Token"] = token
    return requests.post(f"{channel_bot.rasa_url}/webhooks/telegram/webhook", json=update, headers=headers,
                         timeout=TIMEOUT)


def telegram_sent_to(channel_bot, chat_id: int) -> list[dict]:
    calls = channel_bot.telegram.calls("/sendMessage")
    return [r.json for r in calls if r.json.get("chat_id") == str(chat_id)]


def wait_telegram(channel_bot, chat_id: int, count: int, containing: str = "") -> list[dict]:
    """All messages sent to the chat, once `count` have arrived and (if given) one after the first
    `count - 1` contains `containing`."""
    def ready(_):
        sent = telegram_sent_to(channel_bot, chat_id)
        if len(sent) < count or (containing and not any(containing in m["text"] for m in sent[count - 1:])):
            return None
        return sent
    return channel_bot.telegram.wait_for(ready, TIMEOUT)


def twilio_form(sender: str, body: str) -> dict[str, str]:
    return {"SmsMessageSid": "SM" + uuid.uuid4().hex, "MessageSid": "SM" + uuid.uuid4().hex, "NumMedia": "0",
            "AccountSid": "AC00000000000000000000000000000001", "From": sender,
            "To": "whatsapp:+14155238886", "Body": body, "ProfileName": "Sam", "WaId": sender.split("+")[-1]}


def post_twilio(channel_bot, form: dict[str, str], signature: str | None = "valid") -> requests.Response:
    headers = {}
    if signature == "valid":
        validator = RequestValidator(channel_bot.env["TWILIO_AUTH_TOKEN"])
        public_url = channel_bot.env["TWILIO_WEBHOOK_URL"]
        headers["X-Twilio-Signature"] = validator.compute_signature(public_url, form)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    return requests.post(f"{channel_bot.rasa_url}/webhooks/twilio/webhook", data=form, headers=headers,
                         timeout=TIMEOUT)


def twilio_bodies(channel_bot, sender: str) -> list[str]:
    return [r.form["Body"] for r in channel_bot.twilio.calls("/Messages.json") if r.form.get("To") == sender]


def user_events(database_url: str, sender: str) -> list[dict]:
    with create_engine(database_url).connect() as connection:
        rows = connection.execute(text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' "
                                       "ORDER BY id"), {"s": sender}).fetchall()
    return [json.loads(row.data) for row in rows]


def twilio_conversation(sender: str) -> str:
    """'whatsapp:+447700912345' (Twilio's From) -> the conversation id 'twilio:+447700912345'."""
    return "twilio:" + sender.removeprefix("whatsapp:")


def new_chat_id() -> int:
    return random.randint(10**8, 10**9)


def new_whatsapp_number() -> str:
    return f"whatsapp:+4477009{random.randint(10000, 99999)}"


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
    keyboard = answer["reply_markup"]["inline_keyboard"]
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
    events = user_events(channel_bot.database_url, twilio_conversation(sender))
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


def meta_notification(sender: str, body: str) -> bytes:
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": "109876543210"},
            "contacts": [{"profile": {"name": "Sam"}, "wa_id": sender}],
            "messages": [{"from": sender, "id": "wamid." + uuid.uuid4().hex, "timestamp": "1700000000",
                          "type": "text", "text": {"body": body}}]}}]}]}).encode()


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
        lambda requests_: [r.json for r in requests_ if r.json.get("to") == sender], TIMEOUT)
    assert sent[0]["messaging_product"] == "whatsapp"
    text_out = json.dumps(sent)
    assert "Sources:" in text_out
    assert all(r.headers["Authorization"] == "Bearer fake-graph-token" for r in channel_bot.graph.calls())
    assert [e["input_channel"] for e in user_events(channel_bot.database_url, f"whatsapp:+{sender}")] == ["whatsapp"]


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
    channels = {conversation: {e["input_channel"] for e in user_events(channel_bot.database_url, conversation)}
                for conversation in conversations}
    assert channels == {conversations[0]: {"telegram"}, conversations[1]: {"twilio"},
                        conversations[2]: {"rest"}, conversations[3]: {"socketio"}}
