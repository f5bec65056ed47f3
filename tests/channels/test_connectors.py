"""The connectors without Rasa: outgoing calls to fake APIs over loopback HTTP, and the request checks."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
from types import SimpleNamespace

import pytest
from twilio.request_validator import RequestValidator

from bot.channels.socketio import message_metadata
from bot.channels.telegram import ClinicTelegramInput, ClinicTelegramOutput, inline_keyboard
from bot.channels.twilio_whatsapp import ClinicTwilioWhatsAppInput, ClinicTwilioWhatsAppOutput
from bot.channels.whatsapp_cloud import WhatsAppCloudInput, WhatsAppCloudOutput, signature_for
from tests.channels.fakes import FakeAPI

BUTTONS = [{"title": "Tell me more", "payload": "/tell_me_more"},
           {"title": "Which exercises help?", "payload": "/ask_exercises"}]
TOKEN = "123456:TEST-token"


@pytest.fixture
def fake():
    servers = []

    def start(kind: str) -> FakeAPI:
        servers.append(FakeAPI(kind).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def run(coroutine):
    return asyncio.run(coroutine)


# ---- Telegram ------------------------------------------------------------------------------------------

def test_telegram_buttons_become_an_inline_keyboard_under_the_last_part(fake):
    api = fake("telegram")
    output = ClinicTelegramOutput(TOKEN, api.url)
    run(output.send_text_with_buttons("42", "Heel lifts can help.\n\n" + "word " * 1000, BUTTONS))  # 5022
    sent = api.calls(f"/bot{TOKEN}/sendMessage")
    assert len(sent) == 2 and all(len(r.json["text"]) <= 4096 for r in sent)
    assert "reply_markup" not in sent[0].json
    assert sent[1].json["reply_markup"] == {"inline_keyboard": [
        [{"text": "Tell me more", "callback_data": "/tell_me_more"}],
        [{"text": "Which exercises help?", "callback_data": "/ask_exercises"}]]}
    assert sent[0].json["chat_id"] == "42"


def test_telegram_callback_data_over_64_bytes_falls_back_to_the_title():
    keyboard = inline_keyboard([{"title": "Long", "payload": "/x" + "y" * 80}])
    assert keyboard["inline_keyboard"][0][0]["callback_data"] == "Long"


def test_telegram_registers_the_webhook_with_the_secret_token(fake):
    api = fake("telegram")
    channel = ClinicTelegramInput(TOKEN, "clinic_bot", "https://example.org/webhooks/telegram/webhook",
                                  secret_token="s3cret_-token", api_url=api.url)
    assert channel.set_webhook()
    call = api.calls("/setWebhook")[0].json
    assert call["url"] == "https://example.org/webhooks/telegram/webhook"
    assert call["secret_token"] == "s3cret_-token"
    assert channel.has_secret_token({"X-Telegram-Bot-Api-Secret-Token": "s3cret_-token"})
    assert not channel.has_secret_token({"X-Telegram-Bot-Api-Secret-Token": "wrong"})
    assert not channel.has_secret_token({})
    assert not channel.has_secret_token({"X-Telegram-Bot-Api-Secret-Token": "s3cret\udce9-token"})


def test_telegram_refuses_a_secret_token_telegram_would_reject():
    with pytest.raises(ValueError, match="TELEGRAM_SECRET_TOKEN"):
        ClinicTelegramInput(TOKEN, "clinic_bot", "https://x/y", secret_token="has spaces!")


@pytest.mark.parametrize("update, expected", [
    ({"message": {"chat": {"id": 7}, "text": "do heel lifts help?"}}, ("7", "do heel lifts help?", None)),
    ({"message": {"chat": {"id": 7}, "text": "/start"}}, ("7", "hi", None)),
    ({"callback_query": {"id": "c1", "data": "/ask_exercises", "message": {"chat": {"id": 7}}}},
     ("7", "/ask_exercises", None)),
])
def test_telegram_updates_become_rasa_messages(update, expected):
    assert ClinicTelegramInput.interpret(update) == expected


@pytest.mark.parametrize("update", [
    {"message": {"chat": {"id": 7}, "sticker": {"file_id": "x", "emoji": "👍"}}},
    {"message": {"chat": {"id": 7}, "photo": [{"file_id": "p", "width": 90, "height": 90}]}},
    {"edited_message": {"chat": {"id": 7}, "text": "edited"}},
])
def test_telegram_non_text_updates_get_a_canned_reply(update):
    chat, text, canned = ClinicTelegramInput.interpret(update)
    assert chat == "7" and text is None and canned


# ---- WhatsApp via Twilio -------------------------------------------------------------------------------

def test_twilio_sends_numbered_options_split_at_1600(fake):
    api = fake("twilio")
    output = ClinicTwilioWhatsAppOutput("AC123", "authtoken", "+14155238886", api.url)
    run(output.send_text_with_buttons("whatsapp:+447700900123", "Answer. " * 300, BUTTONS))  # 2400 chars
    sent = api.calls("/2010-04-01/Accounts/AC123/Messages.json")
    assert len(sent) == 2 and all(len(r.form["Body"]) <= 1600 for r in sent)
    assert sent[-1].form["Body"].endswith("1. Tell me more\n2. Which exercises help?")
    assert sent[0].form["From"] == "whatsapp:+14155238886" and sent[0].form["To"] == "whatsapp:+447700900123"
    assert sent[0].headers["Authorization"].startswith("Basic ")


def _twilio_request(url: str, form: dict[str, str], signature: str | None):
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return SimpleNamespace(headers=headers, form={k: [v] for k, v in form.items()}, query_string="")


def test_twilio_signature_is_checked_against_the_public_url():
    public = "https://clinic.example.org/webhooks/twilio/webhook"
    channel = ClinicTwilioWhatsAppInput("AC123", "authtoken", "+14155238886", webhook_url=public)
    form = {"From": "whatsapp:+447700900123", "Body": "hi", "MessageSid": "SM1"}
    good = RequestValidator("authtoken").compute_signature(public, form)
    assert channel.is_signed_by_twilio(_twilio_request(public, form, good))
    assert not channel.is_signed_by_twilio(_twilio_request(public, form, None))
    assert not channel.is_signed_by_twilio(_twilio_request(public, form, "bm90IHRoZSBzaWduYXR1cmU="))
    tampered = dict(form, Body="something else")
    assert not channel.is_signed_by_twilio(_twilio_request(public, tampered, good))
    signed_locally = RequestValidator("authtoken").compute_signature("http://127.0.0.1:5005/webhooks/twilio/webhook",
                                                                     form)
    assert not channel.is_signed_by_twilio(_twilio_request(public, form, signed_locally))


# ---- WhatsApp via Meta Cloud API -----------------------------------------------------------------------

def test_cloud_api_uses_reply_buttons_when_they_fit_and_numbered_options_otherwise(fake):
    api = fake("graph")
    output = WhatsAppCloudOutput("graph-token", "1234567890", api.url)
    run(output.send_text_with_buttons("447700900123", "Answer.", [BUTTONS[0], {"title": "Exercises",
                                                                               "payload": "/ask_exercises"}]))
    run(output.send_text_with_buttons("447700900123", "Answer.", BUTTONS))  # a title over 20 characters
    first, second = (r.json for r in api.calls("/1234567890/messages"))
    assert first["type"] == "interactive"
    assert [b["reply"] for b in first["interactive"]["action"]["buttons"]] == [
        {"id": "/tell_me_more", "title": "Tell me more"}, {"id": "/ask_exercises", "title": "Exercises"}]
    assert second["type"] == "text" and second["text"]["body"].endswith("2. Which exercises help?")
    assert api.calls()[0].headers["Authorization"] == "Bearer graph-token"


def test_cloud_api_reads_text_buttons_and_media():
    payload = {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": [
        {"from": "447700900123", "type": "text", "text": {"body": "hi"}},
        {"from": "447700900123", "type": "interactive",
         "interactive": {"type": "button_reply", "button_reply": {"id": "/ask_exercises", "title": "Ex"}}},
        {"from": "447700900123", "type": "image", "image": {"id": "m1"}},
    ]}}]}]}
    assert WhatsAppCloudInput.incoming_messages(payload) == [
        ("447700900123", "hi", False), ("447700900123", "/ask_exercises", True),
        ("447700900123", None, False)]
    body = b'{"entry": []}'
    expected = "sha256=" + hmac.new(b"appsecret", body, hashlib.sha256).hexdigest()
    assert signature_for("appsecret", body) == expected


# ---- website (socket.io) -------------------------------------------------------------------------------

def test_socketio_keeps_grounding_and_triage_metadata():
    kwargs = {"grounding": {"topic": "heel_lifts", "sources": []}, "triage": {"level": "emergency"},
              "elements": None, "image": None, "custom": None, "utter_action": None, "timestamp": 1.0}
    assert message_metadata(kwargs) == {"grounding": {"topic": "heel_lifts", "sources": []},
                                        "triage": {"level": "emergency"}, "timestamp": 1.0}


def test_text_with_a_lone_surrogate_is_not_storable():
    from bot.channels.intake import is_storable_text

    assert is_storable_text("heel pain 🦶🏽 — ¿tendón? 腳踭痛")
    assert not is_storable_text("fine", "x \udfff")
