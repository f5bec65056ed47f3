"""'Was this helpful?' on Telegram (a 👍 / 👎 row under knowledge answers) and WhatsApp (one prompt line a day,
a 👍 / 👎 reply right after it becomes the rating): bot/channels/feedback_prompt.py and the connectors.

The first part drives the output channels against fake platform APIs with a fixed clock; the second part talks
to the real bot (`channel_bot`) and checks the rating stored by actions/feedback.py (bot/feedback.py).
"""
from __future__ import annotations

import asyncio
import json
import random
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine

from bot.channels import feedback_prompt
from bot.channels.feedback_prompt import PROMPT, rating_payload, thumb
from bot.channels.telegram import CALLBACK_DATA_LIMIT, ClinicTelegramOutput, inline_keyboard, without_rating_row
from bot.channels.twilio_whatsapp import ClinicTwilioWhatsAppOutput
from bot.channels.whatsapp_cloud import WhatsAppCloudOutput
from bot.feedback import all_feedback
from tests.channels.fakes import FakeAPI
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
    wait_events,
    wait_until,
)

TOKEN = "123456:TEST-token"
ANSWER = "Heel lifts can temporarily reduce strain on the tendon.\n\nSources: NHS, \"Achilles tendinopathy\""
GROUNDED = {"grounding": {"topic": "heel_lifts", "sources": [{"id": "nhs_achilles"}]}}
LONG_TOPIC = {"grounding": {"topic": "midportion_vs_insertional", "sources": []}}
URGENT = {"grounding": {"topic": "heel_lifts", "sources": []}, "triage": {"level": "emergency"}}
BUTTONS = [{"title": "Tell me more", "payload": "/tell_me_more"}]
THANKS_HELPFUL = "glad that helped"
THANKS_UNHELPFUL = "Thanks for telling me"
# 2025-03-10 09:00 in London (GMT): a Monday morning
MONDAY_9AM = datetime(2025, 3, 10, 9, 0, tzinfo=timezone.utc).timestamp()
HOUR = 3600.0


def run(coroutine):
    return asyncio.run(coroutine)


@pytest.fixture
def fake():
    servers = []

    def start(kind: str) -> FakeAPI:
        servers.append(FakeAPI(kind).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def clock(monkeypatch):
    """A fixed clock for the prompt's day, and a fresh in-memory prompt store."""
    monkeypatch.delenv("CLINIC_REDIS_URL", raising=False)
    feedback_prompt._storage.cache_clear()
    moment = {"now": MONDAY_9AM}
    monkeypatch.setattr(feedback_prompt, "now", lambda: moment["now"])
    yield moment
    feedback_prompt._storage.cache_clear()


# ---- the rating payload and the thumbs ---------------------------------------------------------------

def test_rating_payload_is_the_widgets_and_drops_the_topic_past_the_limit():
    assert rating_payload(True, "heel_lifts") == '/feedback_helpful{"feedback_topic":"heel_lifts"}'
    assert rating_payload(False, "heel_lifts") == '/feedback_unhelpful{"feedback_topic":"heel_lifts"}'
    assert rating_payload(False, "midportion_vs_insertional", 64) == "/feedback_unhelpful"  # 65 bytes
    assert rating_payload(True, "midportion_vs_insertional", 64) == (
        '/feedback_helpful{"feedback_topic":"midportion_vs_insertional"}')  # 63 bytes
    assert rating_payload(True, None) == "/feedback_helpful"


@pytest.mark.parametrize("text, expected", [
    ("👍", True), ("👎", False), ("  👍🏽 ", True), ("👎🏿", False), ("👍\ufe0f", True), ("👍🏻\n", True),
    ("👍👍", None), ("👍 thanks", None), ("ok", None), ("", None), ("1", None), ("🏽", None),
])
def test_only_a_lone_thumb_counts_as_a_rating(text, expected):
    assert thumb(text) is expected


# ---- Telegram: the 👍 / 👎 row ---------------------------------------------------------------------------

def rating_rows(message: dict) -> list[list[dict]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [row for row in rows if any(b["callback_data"].startswith("/feedback_") for b in row)]


def test_telegram_answer_without_buttons_gets_the_rating_row_alone(fake):
    api = fake("telegram")
    run(ClinicTelegramOutput(TOKEN, api.url).send_text_message("42", ANSWER, **GROUNDED))
    sent = api.calls("/sendMessage")[-1].json
    assert sent["text"] == ANSWER
    assert sent["reply_markup"] == {"inline_keyboard": [[
        {"text": "👍", "callback_data": '/feedback_helpful{"feedback_topic":"heel_lifts"}'},
        {"text": "👎", "callback_data": '/feedback_unhelpful{"feedback_topic":"heel_lifts"}'}]]}


def test_telegram_rating_is_an_extra_row_under_the_buttons_of_the_last_part(fake):
    api = fake("telegram")
    output = ClinicTelegramOutput(TOKEN, api.url)
    run(output.send_text_with_buttons("42", ANSWER + "\n\n" + "word " * 1000, BUTTONS, **LONG_TOPIC))
    sent = api.calls("/sendMessage")
    assert len(sent) == 2 and "reply_markup" not in sent[0].json
    rows = sent[1].json["reply_markup"]["inline_keyboard"]
    assert rows[0] == [{"text": "Tell me more", "callback_data": "/tell_me_more"}]
    assert [b["text"] for b in rows[1]] == ["👍", "👎"] and len(rows) == 2
    assert all(len(b["callback_data"].encode()) <= CALLBACK_DATA_LIMIT for b in rows[1])
    assert [b["callback_data"] for b in rows[1]] == [
        '/feedback_helpful{"feedback_topic":"midportion_vs_insertional"}', "/feedback_unhelpful"]


@pytest.mark.parametrize("kwargs", [URGENT, {"triage": {"level": "same_day"}}, {},
                                    {"grounding": {"topic": None, "sources": [{"id": "x"}]}}])
def test_telegram_urgent_advice_small_talk_and_passages_have_no_rating_row(fake, kwargs):
    api = fake("telegram")
    output = ClinicTelegramOutput(TOKEN, api.url)
    run(output.send_text_message("42", "Please call 999 now.", **kwargs))
    run(output.send_text_with_buttons("42", "Please call 999 now.", BUTTONS, **kwargs))
    plain, with_buttons = (r.json for r in api.calls("/sendMessage"))
    assert "reply_markup" not in plain
    assert with_buttons["reply_markup"] == inline_keyboard(BUTTONS)
    assert rating_rows(plain) == rating_rows(with_buttons) == []


def test_telegram_a_rated_keyboard_loses_only_its_rating_row():
    keyboard = inline_keyboard(BUTTONS, rating_topic="heel_lifts")
    assert without_rating_row(keyboard) == inline_keyboard(BUTTONS)
    assert without_rating_row(inline_keyboard(BUTTONS)) is None
    assert without_rating_row(None) is None


# ---- WhatsApp: the prompt once a day ---------------------------------------------------------------------

def twilio_output(api: FakeAPI) -> ClinicTwilioWhatsAppOutput:
    return ClinicTwilioWhatsAppOutput("AC1", "token", "+14155238886", api.url)


def test_twilio_prompt_once_a_day_then_again_the_next_day(fake, clock):
    api = fake("twilio")
    output = twilio_output(api)
    to = "twilio:+447700900123"

    def send(**kwargs) -> str:
        run(output.send_text_with_buttons(to, ANSWER, BUTTONS, **kwargs))
        return api.calls("/Messages.json")[-1].form["Body"]

    first = send(**GROUNDED)
    assert first == f"{ANSWER}\n\n{PROMPT}\n\nReply with a number:\n1. Tell me more"
    clock["now"] = MONDAY_9AM + 13.5 * HOUR  # 22:30 the same day
    assert PROMPT not in send(**GROUNDED)
    assert PROMPT not in send(**GROUNDED)
    clock["now"] = MONDAY_9AM + 23 * HOUR  # 08:00 on Tuesday
    assert PROMPT in send(**GROUNDED)
    other = "twilio:+447700900999"  # each conversation has its own day
    run(output.send_text_message(other, ANSWER, **GROUNDED))
    assert api.calls("/Messages.json")[-1].form["Body"] == f"{ANSWER}\n\n{PROMPT}"


@pytest.mark.parametrize("kwargs", [URGENT, {"triage": {"level": "soon"}, "grounding": GROUNDED["grounding"]},
                                    {}, {"grounding": {"topic": "", "sources": []}}])
def test_no_prompt_on_urgent_advice_small_talk_or_passages_and_the_day_is_not_used_up(fake, clock, kwargs):
    api = fake("twilio")
    output = twilio_output(api)
    run(output.send_text_message("twilio:+447700900124", "Please call 999 now.", **kwargs))
    assert PROMPT not in api.calls("/Messages.json")[-1].form["Body"]
    run(output.send_text_message("twilio:+447700900124", ANSWER, **GROUNDED))
    assert api.calls("/Messages.json")[-1].form["Body"].endswith(PROMPT)


def test_meta_prompt_sits_in_the_interactive_body_once_a_day(fake, clock):
    api = fake("graph")
    output = WhatsAppCloudOutput("token", "109876543210", api.url + "/v23.0")
    run(output.send_text_with_buttons("whatsapp:+447700900125", ANSWER, BUTTONS, **GROUNDED))
    first = api.calls("/messages")[-1].json["interactive"]
    assert first["body"]["text"] == f"{ANSWER}\n\n{PROMPT}"
    assert first["action"]["buttons"][0]["reply"]["id"] == "/tell_me_more"
    clock["now"] = MONDAY_9AM + HOUR
    run(output.send_text_message("whatsapp:+447700900125", ANSWER, **GROUNDED))
    assert api.calls("/messages")[-1].json["text"]["body"] == ANSWER


def test_a_thumb_is_a_rating_only_right_after_the_prompt(fake, clock):
    api = fake("twilio")
    output = twilio_output(api)
    conversation = "twilio:+447700900126"
    assert run(feedback_prompt.rating_reply(conversation, "👍")) is None  # nothing prompted yet
    run(output.send_text_message(conversation, ANSWER, **GROUNDED))
    assert run(feedback_prompt.rating_reply(conversation, "👎🏽")) is False
    assert run(feedback_prompt.rating_reply(conversation, "👍")) is None, "one rating per prompt"

    clock["now"] = MONDAY_9AM + 24 * HOUR
    run(output.send_text_message(conversation, ANSWER, **GROUNDED))  # prompted again, the next day
    run(output.send_text_message(conversation, "Anything else I can help with?"))  # no longer the latest
    assert run(feedback_prompt.rating_reply(conversation, "👍")) is None

    clock["now"] = MONDAY_9AM + 48 * HOUR
    run(output.send_text_message(conversation, ANSWER, **GROUNDED))
    assert run(feedback_prompt.rating_reply(conversation, "do heel lifts help?")) is None  # moved on
    assert run(feedback_prompt.rating_reply(conversation, "👍")) is None


# ---- against the real bot ---------------------------------------------------------------------------------

def stored_ratings(channel_bot, conversation: str) -> list[dict]:
    with create_engine(channel_bot.database_url).connect() as connection:
        return [row for row in all_feedback(connection) if row["conversation_id"] == conversation]


@pytest.mark.e2e
def test_telegram_answer_has_the_rating_row_and_a_press_stores_the_rating(channel_bot):
    chat_id = new_chat_id()
    conversation = f"telegram:{chat_id}"
    assert post_telegram(channel_bot, telegram_update(chat_id, text="do heel lifts help?")).status_code == 200
    answer = wait_until(lambda: next((m for m in telegram_sent_to(channel_bot, chat_id)
                                      if "Sources:" in m["text"]), None), what="the answer")
    rows = answer["reply_markup"]["inline_keyboard"]
    rating = rows[-1]
    assert [b["text"] for b in rating] == ["👍", "👎"]
    assert all(0 < len(b["callback_data"].encode()) <= CALLBACK_DATA_LIMIT for b in rating)
    assert rating[0]["callback_data"] == '/feedback_helpful{"feedback_topic":"heel_lifts"}'
    assert rating_rows(answer) == [rating], "one rating row"

    update = telegram_update(chat_id, callback_data=rating[0]["callback_data"])
    update["callback_query"]["message"].update(message_id=77, reply_markup=answer["reply_markup"])
    assert post_telegram(channel_bot, update).status_code == 200
    wait_until(lambda: [m for m in telegram_sent_to(channel_bot, chat_id) if THANKS_HELPFUL in m["text"]],
               what="the thanks for the rating")
    stored = wait_until(lambda: stored_ratings(channel_bot, conversation), what="the stored rating")
    assert [(r["helpful"], r["topic"], r["channel"]) for r in stored] == [(True, "heel_lifts", "telegram")]
    assert stored[0]["sources"], "the rating is stored with the answer's sources"
    assert channel_bot.telegram.calls("/answerCallbackQuery")
    edits = [r.json for r in channel_bot.telegram.calls("/editMessageReplyMarkup")
             if r.json.get("chat_id") == str(chat_id)]
    assert edits == [{"chat_id": str(chat_id), "message_id": 77,
                      "reply_markup": {"inline_keyboard": rows[:-1]}}], "the rated answer loses its 👍 / 👎"


@pytest.mark.e2e
def test_telegram_urgent_advice_has_no_rating_row(channel_bot):
    chat_id = new_chat_id()
    text = "I heard a loud pop in my achilles and now I can't walk"
    assert post_telegram(channel_bot, telegram_update(chat_id, text=text)).status_code == 200
    wait_until(lambda: [m for m in telegram_sent_to(channel_bot, chat_id) if m["text"].startswith("⚠️")],
               what="the red-flag advice")
    time.sleep(3)  # whatever else the turn sends
    sent = telegram_sent_to(channel_bot, chat_id)
    assert sent and all(rating_rows(m) == [] for m in sent), sent


@pytest.mark.e2e
def test_twilio_prompt_then_a_thumb_reply_stores_a_rating_and_no_second_prompt_today(channel_bot):
    sender = new_whatsapp_number()
    conversation = twilio_conversation(sender)
    assert post_twilio(channel_bot, twilio_form(sender, "do heel lifts help?")).status_code == 200
    wait_until(lambda: PROMPT in "\n".join(twilio_bodies(channel_bot, sender)), what="the prompt")
    assert post_twilio(channel_bot, twilio_form(sender, " 👍🏽 ")).status_code == 200
    wait_until(lambda: [b for b in twilio_bodies(channel_bot, sender) if THANKS_HELPFUL in b], what="thanks")
    events = wait_events(channel_bot.database_url, conversation, 2)
    assert events[1]["text"] == '/feedback_helpful{"feedback_topic":"heel_lifts"}'
    stored = wait_until(lambda: stored_ratings(channel_bot, conversation), what="the stored rating")
    assert [(r["helpful"], r["topic"], r["channel"]) for r in stored] == [(True, "heel_lifts", "twilio")]

    count = len(twilio_bodies(channel_bot, sender))
    assert post_twilio(channel_bot, twilio_form(sender, "do heel lifts help?")).status_code == 200
    later = wait_until(lambda: (lambda bodies: bodies[count:] if any("Sources:" in b for b in bodies[count:])
                                else None)(twilio_bodies(channel_bot, sender)), what="the second answer")
    assert PROMPT not in "\n".join(later), "at most one prompt a day"
    assert post_twilio(channel_bot, twilio_form(sender, "👍")).status_code == 200
    assert wait_events(channel_bot.database_url, conversation, 4)[3]["text"] == "👍", "no prompt: plain text"


@pytest.mark.e2e
def test_twilio_thumb_without_a_prompt_is_passed_as_text(channel_bot):
    sender = new_whatsapp_number()
    assert post_twilio(channel_bot, twilio_form(sender, "👍")).status_code == 200
    assert [e["text"] for e in wait_events(channel_bot.database_url, twilio_conversation(sender), 1)] == ["👍"]


@pytest.mark.e2e
def test_meta_prompt_then_a_thumbs_down_stores_an_unhelpful_rating(channel_bot):
    wa_id = f"4477007{random.randint(10000, 99999)}"
    conversation = f"whatsapp:+{wa_id}"
    assert post_meta(channel_bot, meta_notification(wa_id, "do heel lifts help?")).status_code == 200
    wait_until(lambda: PROMPT in json.dumps(meta_sent_to(channel_bot, wa_id), ensure_ascii=False),
               what="the prompt")
    assert post_meta(channel_bot, meta_notification(wa_id, "👎")).status_code == 200
    wait_until(lambda: THANKS_UNHELPFUL in json.dumps(meta_sent_to(channel_bot, wa_id), ensure_ascii=False),
               what="the thanks")
    assert user_events(channel_bot.database_url, conversation)[1]["text"] == (
        '/feedback_unhelpful{"feedback_topic":"heel_lifts"}')
    stored = wait_until(lambda: stored_ratings(channel_bot, conversation), what="the stored rating")
    assert [(r["helpful"], r["topic"], r["channel"]) for r in stored] == [(False, "heel_lifts", "whatsapp")]


def _reaction(emoji: str) -> dict:
    return {"entry": [{"changes": [{"value": {"messages": [{
        "from": "447700900123", "id": "wamid.R1", "type": "reaction",
        "reaction": {"message_id": "wamid.OUT1", "emoji": emoji}}]}}]}]}


def test_meta_thumb_reactions_read_as_the_typed_emoji_and_other_reactions_get_no_reply():
    from bot.channels.whatsapp_cloud import WhatsAppCloudInput

    assert WhatsAppCloudInput.incoming(_reaction("👍")) == [("447700900123", "👍", False, "wamid.R1")]
    assert WhatsAppCloudInput.incoming(_reaction("👎🏽")) == [("447700900123", "👎🏽", False, "wamid.R1")]
    assert WhatsAppCloudInput.incoming(_reaction("❤️")) == []
    assert WhatsAppCloudInput.incoming(_reaction("")) == []  # a reaction taken back
