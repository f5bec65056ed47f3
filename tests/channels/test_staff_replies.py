"""Staff replies reach the patient's own chat on Telegram, WhatsApp via Twilio and WhatsApp via Meta (fake
platform APIs); outside WhatsApp's 24-hour window the console is told why it cannot send."""
from __future__ import annotations

import json
import random
import time

import pytest
from sqlalchemy import create_engine, text

from bot.staff import handoff as console
from bot.staff.models import StaffUser
from tests.channels.webhooks import (
    meta_notification,
    meta_sent_to,
    new_chat_id,
    new_whatsapp_number,
    post_meta,
    post_telegram,
    post_twilio,
    telegram_sent_to,
    telegram_update,
    twilio_bodies,
    twilio_conversation,
    twilio_form,
    user_events,
    wait_until,
)

pytestmark = pytest.mark.e2e

ANNA = StaffUser(username="front.desk.2", display_name="Anna")  # the name visitors see is the display name
REPLY = "Hi, this is Anna from the clinic. Can you send me a photo of the swelling?"


@pytest.fixture
def console_to(channel_bot, monkeypatch):
    monkeypatch.setenv("CLINIC_RASA_URL", channel_bot.rasa_url)
    monkeypatch.setenv("CLINIC_DATABASE_URL", channel_bot.database_url)  # the handoff state the bot writes
    return channel_bot


def take_over_and_reply(conversation: str) -> None:
    taken = console.operate("take_over", conversation, ANNA)
    assert taken.ok and taken.delivered, taken.message
    sent = console.operate("reply", conversation, ANNA, REPLY)
    assert sent.ok and sent.delivered, sent.message


def test_a_staff_reply_reaches_the_right_telegram_chat(console_to):
    chat_id, other = new_chat_id(), new_chat_id()
    for chat in (chat_id, other):
        assert post_telegram(console_to, telegram_update(chat, text="hello")).status_code == 200
    wait_until(lambda: user_events(console_to.database_url, f"telegram:{chat_id}"), what="the message logged")
    take_over_and_reply(f"telegram:{chat_id}")
    texts = [m["text"] for m in wait_until(
        lambda: [m for m in telegram_sent_to(console_to, chat_id) if REPLY in m["text"]] and
        telegram_sent_to(console_to, chat_id), what="the staff reply on Telegram")]
    assert any("Anna from Riverside Sports Physiotherapy has joined" in t for t in texts)
    assert not any(REPLY in m["text"] for m in telegram_sent_to(console_to, other))
    assert console.operate("hand_back", f"telegram:{chat_id}", ANNA).ok


def test_a_staff_reply_reaches_the_right_whatsapp_number_via_twilio(console_to):
    sender = new_whatsapp_number()
    assert post_twilio(console_to, twilio_form(sender, "hello")).status_code == 200
    conversation = twilio_conversation(sender)
    wait_until(lambda: user_events(console_to.database_url, conversation), what="the message logged")
    take_over_and_reply(conversation)
    wait_until(lambda: any(REPLY in b for b in twilio_bodies(console_to, sender)), what="the reply via Twilio")
    sent = [c for c in console_to.twilio.calls("/Messages.json") if REPLY in c.form.get("Body", "")]
    assert sent[-1].form["To"] == sender


def test_a_staff_reply_reaches_the_right_whatsapp_number_via_meta(console_to):
    wa_id = f"4477009{random.randint(10000, 99999)}"
    assert post_meta(console_to, meta_notification(wa_id, "hello")).status_code == 200
    conversation = f"whatsapp:+{wa_id}"
    wait_until(lambda: user_events(console_to.database_url, conversation), what="the message logged")
    take_over_and_reply(conversation)
    wait_until(lambda: any(REPLY in json.dumps(m) for m in meta_sent_to(console_to, wa_id)), what="the Meta reply")


def test_outside_the_24_hour_window_the_console_says_why_it_cannot_send(console_to):
    wa_id = f"4477008{random.randint(10000, 99999)}"
    assert post_meta(console_to, meta_notification(wa_id, "hello")).status_code == 200
    conversation = f"whatsapp:+{wa_id}"
    wait_until(lambda: user_events(console_to.database_url, conversation), what="the message logged")
    assert console.operate("take_over", conversation, ANNA).ok
    # the patient's last message was 25 hours ago
    day_ago = time.time() - 25 * 3600
    engine = create_engine(console_to.database_url)
    with engine.begin() as conn:
        for row in conn.execute(text("SELECT id, data FROM events WHERE sender_id = :s AND type_name = 'user'"),
                                {"s": conversation}).fetchall():
            data = json.loads(row.data)
            data["timestamp"] = day_ago
            conn.execute(text("UPDATE events SET data = :d, timestamp = :t WHERE id = :i"),
                         {"d": json.dumps(data), "t": day_ago, "i": row.id})
    engine.dispose()
    before = len(meta_sent_to(console_to, wa_id))
    refused = console.operate("reply", conversation, ANNA, REPLY)
    assert not refused.ok and not refused.delivered
    assert "24 hours" in refused.message and "25 hours ago" in refused.message
    assert not any(REPLY in json.dumps(m) for m in meta_sent_to(console_to, wa_id)[before:])
