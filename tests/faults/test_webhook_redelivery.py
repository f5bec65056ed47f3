"""At-least-once webhooks handled once (issue 9, item 4): the same notification delivered twice on each
channel, one after the other and at the same moment, gets one reply, one escalation and one logged message;
each webhook answers within the platform's time limit even while the bot is still thinking."""
from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.channels.webhooks import (
    escalations_of,
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

pytestmark = [pytest.mark.faults, pytest.mark.e2e]
RED_FLAG = "I heard a loud pop in my achilles and now I can't walk"
TWILIO_WAIT = 15.0   # Twilio gives up on a webhook after about 15 s and retries
SETTLE = 3.0         # long enough for a second (wrong) reply to have been sent


def deliver_twice(post) -> list:
    """Two deliveries at the same moment (as from two retrying platform servers), then a third later."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: timed(post), range(2)))
    return answers + [timed(post)]


def timed(post):
    started = time.monotonic()
    answer = post()
    return answer, time.monotonic() - started


def advice(messages: list[str]) -> list[str]:
    """The urgent advice's first part: text channels put a warning sign in front of it (mark_urgent)."""
    return [m for m in messages if m.startswith("⚠️")]


def assert_handled_once(channel_bot, answers, conversation: str, sent) -> None:
    assert [a.status_code for a, _ in answers] == [200, 200, 200], "a re-delivery is acknowledged"
    assert all(seconds < TWILIO_WAIT for _, seconds in answers), [round(s, 1) for _, s in answers]
    wait_until(lambda: escalations_of(channel_bot.database_url, conversation), what="the escalation")
    first = wait_until(lambda: advice(sent()), what="the red-flag advice")
    time.sleep(SETTLE)
    assert len(advice(sent())) == len(first) == 1, f"advice sent more than once: {sent()}"
    assert len(escalations_of(channel_bot.database_url, conversation)) == 1
    assert [e["text"] for e in wait_events(channel_bot.database_url, conversation, 1)] == [RED_FLAG]


def test_telegram_update_delivered_twice_is_answered_once(channel_bot):
    chat_id = new_chat_id()
    update = telegram_update(chat_id, text=RED_FLAG)
    answers = deliver_twice(lambda: post_telegram(channel_bot, update))
    assert_handled_once(channel_bot, answers, f"telegram:{chat_id}",
                        lambda: [m["text"] for m in telegram_sent_to(channel_bot, chat_id)])


def test_twilio_message_delivered_twice_is_answered_once(channel_bot):
    sender = new_whatsapp_number()
    form = twilio_form(sender, RED_FLAG)
    answers = deliver_twice(lambda: post_twilio(channel_bot, form))
    assert all("<Response>" in a.text for a, _ in answers)
    assert_handled_once(channel_bot, answers, twilio_conversation(sender), lambda: twilio_bodies(channel_bot, sender))


def test_meta_message_delivered_twice_is_answered_once(channel_bot):
    number = new_whatsapp_number().removeprefix("whatsapp:+")
    body = meta_notification(number, RED_FLAG, message_id=f"wamid.{uuid.uuid4().hex}")
    answers = deliver_twice(lambda: post_meta(channel_bot, body))

    def sent() -> list[str]:
        return [str(m.get("text", {}).get("body") or m.get("interactive", {}).get("body", {}).get("text"))
                for m in meta_sent_to(channel_bot, number)]
    assert_handled_once(channel_bot, answers, f"whatsapp:+{number}", sent)


def test_a_redelivered_contact_answer_is_not_fed_into_the_form_twice(channel_bot):
    chat_id = new_chat_id()
    post_telegram(channel_bot, telegram_update(chat_id, text=RED_FLAG))
    wait_until(lambda: escalations_of(channel_bot.database_url, f"telegram:{chat_id}"), what="the escalation")
    wait_until(lambda: advice([m["text"] for m in telegram_sent_to(channel_bot, chat_id)]), what="the advice")
    count = len(telegram_sent_to(channel_bot, chat_id))
    answer = telegram_update(chat_id, text="yes")
    for _ in range(3):
        assert post_telegram(channel_bot, answer).status_code == 200
    wait_until(lambda: len(telegram_sent_to(channel_bot, chat_id)) > count, what="the reply to 'yes'")
    wait_events(channel_bot.database_url, f"telegram:{chat_id}", 2)
    time.sleep(SETTLE)
    texts = [e["text"] for e in user_events(channel_bot.database_url, f"telegram:{chat_id}")]
    assert texts == [RED_FLAG, "yes"], "the form got the answer once"
