"""What the platforms send to the bot's webhooks, built and signed as they do, and what the fakes received."""
from __future__ import annotations

import json
import random
import uuid

import requests
from sqlalchemy import create_engine, text
from twilio.request_validator import RequestValidator

from bot.channels.whatsapp_cloud import signature_for

TIMEOUT = 60


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


def meta_notification(sender: str, body: str, message_id: str | None = None) -> bytes:
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": "109876543210"},
            "contacts": [{"profile": {"name": "Sam"}, "wa_id": sender}],
            "messages": [{"from": sender, "id": message_id or "wamid." + uuid.uuid4().hex, "timestamp": "1700000000",
                          "type": "text", "text": {"body": body}}]}}]}]}).encode()


def post_meta(channel_bot, body: bytes, signed: bool = True) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if signed:
        headers["X-Hub-Signature-256"] = signature_for(channel_bot.env["WHATSAPP_APP_SECRET"], body)
    return requests.post(f"{channel_bot.rasa_url}/webhooks/whatsapp/webhook", data=body, headers=headers,
                         timeout=TIMEOUT)


def meta_sent_to(channel_bot, wa_id: str) -> list[dict]:
    return [r.json for r in channel_bot.graph.calls("/messages") if r.json.get("to") == wa_id]


def socket_session(rasa_url: str, session_id: str | None = None, timeout: float = 20):
    """A connected socket.io client that asked for `session_id`: (client, confirmed ids, bot messages)."""
    import time

    import socketio

    client = socketio.Client(reconnection=False)
    confirmed: list[str] = []
    replies: list[dict] = []
    client.on("session_confirm", lambda sid: confirmed.append(sid))
    client.on("bot_uttered", lambda message: replies.append(message))
    client.connect(rasa_url, socketio_path="/socket.io", transports=["polling"])
    client.emit("session_request", {"session_id": session_id})
    deadline = time.monotonic() + timeout
    while not confirmed and time.monotonic() < deadline:
        time.sleep(0.05)
    if not confirmed:
        client.disconnect()
        raise AssertionError("no session_confirm from the socket.io channel")
    return client, confirmed, replies


def wait_until(predicate, timeout: float = TIMEOUT, what: str = "condition"):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what} not met in {timeout:.0f} s")


def escalations_of(database_url: str, conversation: str) -> list[dict]:
    with create_engine(database_url).connect() as connection:
        rows = connection.execute(text("SELECT id, level, channel, contact_name, contact_details, notes "
                                       "FROM escalations WHERE conversation_id = :c ORDER BY id"),
                                  {"c": conversation}).mappings().fetchall()
    return [dict(row) for row in rows]


def wait_events(database_url: str, conversation: str, count: int, timeout: float = TIMEOUT) -> list[dict]:
    """The conversation's user events once at least `count` are in the log. Webhooks answer the platform
    before the bot has finished the turn, so the log catches up a moment after the replies go out."""
    return wait_until(lambda: (lambda events: events if len(events) >= count else None)(
        user_events(database_url, conversation)), timeout, f"{count} user message(s) of {conversation} logged")
