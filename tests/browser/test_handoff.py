"""Staff take over a live widget conversation: two real browsers (a visitor and a staff member), one real bot.

The visitor asks for a person; the staff member sees the chat waiting in "Live chats", takes it over and
replies; the visitor sees who joined and the reply, and no bot answer while it is taken over; a red flag
during the handoff still shows the urgent advice; after "Hand back" the bot answers again.
"""
from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from bot.staff.auth import create_user
from tests.browser.test_staff_console import log_in
from tests.browser.test_widget import REPLY_TIMEOUT, ask, open_chat

pytestmark = pytest.mark.browser


def add_staff(database_url: str) -> tuple[str, str]:
    from bot.db import Base

    engine = create_engine(database_url, future=True)
    Base.metadata.create_all(engine)
    username, password = f"frontdesk{uuid.uuid4().hex[:8]}", "handoff-test-password"
    with Session(bind=engine) as session:
        create_user(session, username, password, "staff", display_name="Anna")  # the visitor sees "Anna"
        session.commit()
    engine.dispose()
    return username, password


def test_staff_take_over_reply_and_hand_back_in_the_widget(running_bot, e2e_database_url,
                                                           browser_context_factory):
    visitor = browser_context_factory(viewport={"width": 1200, "height": 900})
    chat = visitor.pages[0] if visitor.pages else visitor.new_page()
    open_chat(chat, running_bot.web_url)
    ask(chat, "can I speak to a real person please?")
    chat.locator(".msg--bot", has_text="999").last.wait_for(timeout=REPLY_TIMEOUT)
    offer = chat.locator(".msg--bot").last.inner_text()
    assert "asked the team" in offer or "left your request for the team" in offer

    username, password = add_staff(e2e_database_url)
    staff = browser_context_factory(viewport={"width": 1360, "height": 900})
    console = staff.pages[0] if staff.pages else staff.new_page()
    console.goto(f"{running_bot.web_url}/staff/")
    log_in(console, username, password)
    console.click("#nav-handoff")
    console.wait_for_url("**/staff/handoffs**")
    waiting = console.locator("#handoff-queue tr[data-state=waiting]", has_text="web:")
    assert waiting.count() >= 1
    waiting.last.get_by_text("Open live chat").click()
    console.wait_for_selector("#live-log li.live-user")
    assert "real person" in console.locator("#live-log").inner_text()

    console.click("#take-over")
    console.wait_for_selector("#reply-text")
    chat.locator(".msg--staff", has_text="Anna from Riverside Sports Physiotherapy has joined").wait_for(
        timeout=REPLY_TIMEOUT)

    console.fill("#reply-text", "Hello, this is Anna. How long have you had the pain?")
    console.click("#send-reply")
    chat.locator(".msg--staff", has_text="How long have you had the pain?").wait_for(timeout=REPLY_TIMEOUT)
    assert "Anna" in chat.locator(".msg--staff").last.inner_text()

    # while taken over: the visitor's words reach the console live, and the bot does not answer
    bot_count = chat.locator(".msg--bot").count()
    ask(chat, "about three weeks, do heel lifts help?")
    console.locator("#live-log li.live-user", has_text="about three weeks").wait_for(timeout=REPLY_TIMEOUT)
    time.sleep(3)
    assert chat.locator(".msg--bot").count() == bot_count

    # a red flag during the handoff: the urgent advice at once, and the console flags it
    ask(chat, "oh no I just heard a loud pop in my achilles and now I can't walk")
    chat.locator(".msg--urgent").last.wait_for(timeout=REPLY_TIMEOUT)
    console.locator("#handoff-state.red-flag").wait_for(timeout=REPLY_TIMEOUT)

    console.click("#hand-back")
    console.wait_for_selector("#take-over")
    chat.locator(".msg--staff", has_text="handed you back").wait_for(timeout=REPLY_TIMEOUT)
    answers_before = chat.locator(".msg--bot:has(.msg__sources)").count()
    ask(chat, "do heel lifts help?")
    chat.locator(".msg--bot:has(.msg__sources)").nth(answers_before).wait_for(timeout=REPLY_TIMEOUT)
    # the visitor rates the answer: stored with its topic, thanked, and the buttons are gone
    answer = chat.locator(".msg--bot:has(.msg__sources)").nth(answers_before)
    answer.locator(".msg__rate--yes").click()
    chat.locator(".msg--bot", has_text="glad that helped").wait_for(timeout=REPLY_TIMEOUT)
    assert answer.locator(".msg__rate").count() == 0
