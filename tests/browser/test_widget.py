"""The website chat widget in a real headless Chromium, against the real bot (web app + Rasa + actions)."""
from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import create_engine, text

from bot.paths import PROJECT_ROOT

pytestmark = pytest.mark.browser

OUTPUT = PROJECT_ROOT / "test-output"
REPLY_TIMEOUT = 60_000  # ms: the first answers of a fresh Rasa server can take a while on a shared machine


def open_chat(page, web_url: str) -> None:
    page.goto(web_url + "/")
    launcher = page.get_by_role("button", name="Chat with our assistant")
    if launcher.is_visible():
        launcher.click()
    page.wait_for_selector('.chat__status[data-status="online"]', timeout=REPLY_TIMEOUT)


def ask(page, message: str) -> None:
    page.locator("#chat-input").fill(message)
    page.keyboard.press("Enter")


def bot_messages(page):
    return page.locator(".msg--bot")


def user_texts(database_url: str, sender: str) -> list[str]:
    with create_engine(database_url).connect() as connection:
        rows = connection.execute(text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' "
                                       "ORDER BY id"), {"s": sender}).fetchall()
    return [json.loads(row.data)["text"] for row in rows]


def test_widget_answers_follows_up_survives_a_reload_and_highlights_red_flags(
        running_bot, e2e_database_url, browser_context_factory):
    OUTPUT.mkdir(exist_ok=True)
    context = browser_context_factory(viewport={"width": 1280, "height": 900})
    page = context.pages[0] if context.pages else context.new_page()
    console_errors: list[str] = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)
    open_chat(page, running_bot.web_url)

    # Accessible structure: a labelled input that has focus, and a live region for new messages.
    assert page.evaluate("document.activeElement.id") == "chat-input"
    assert page.get_by_label("Your message").count() == 1
    assert page.locator(".chat__log").get_attribute("aria-live") == "polite"

    # 1. A sourced answer, its "Sources:" line rendered apart from the answer text.
    ask(page, "do heel lifts help?")
    answer = page.locator(".msg--bot:has(.msg__sources)").first
    answer.wait_for(timeout=REPLY_TIMEOUT)
    assert "heel lift" in answer.inner_text().lower()
    assert answer.locator(".msg__sources li").count() >= 1
    assert "Sources:" not in answer.locator(".msg__bubble > p").all_inner_texts()[-1]

    # 2. A follow-up button, reached with the keyboard (Tab from the conversation) and pressed with Enter.
    replies = page.locator(".msg__reply")
    replies.first.wait_for(timeout=REPLY_TIMEOUT)
    sourced_before = page.locator(".msg__sources").count()
    page.locator(".chat__log").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "msg__reply"
    chosen = page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    page.locator(".msg--user", has_text=chosen).wait_for(timeout=REPLY_TIMEOUT)
    page.wait_for_function(f"document.querySelectorAll('.msg__sources').length > {sourced_before}",
                           timeout=REPLY_TIMEOUT)
    page.screenshot(path=str(OUTPUT / "widget-answer.png"), full_page=True)

    # 3. Reload: the transcript is back and the conversation continues under the same session id.
    session_id = page.locator("#clinic-chat").get_attribute("data-session-id")
    shown = bot_messages(page).count()
    page.reload()
    page.wait_for_selector('.chat__status[data-status="online"]', timeout=REPLY_TIMEOUT)
    assert bot_messages(page).count() == shown
    assert page.locator("#clinic-chat").get_attribute("data-session-id") == session_id

    # 4. A red flag after the reload: the urgent advice is shown as a highlighted alert.
    ask(page, "I heard a loud pop in my achilles and now I can't stand on tiptoe")
    alert = page.locator(".msg--urgent [role=alert]").first
    alert.wait_for(timeout=REPLY_TIMEOUT)
    assert alert.is_visible()
    colour = alert.evaluate("element => getComputedStyle(element).borderTopColor")
    assert colour != "rgb(221, 227, 232)"  # not the plain bubble border
    page.screenshot(path=str(OUTPUT / "widget-red-flag.png"), full_page=True)

    # Rasa sends the urgent advice before the turn ends and the log is written: wait for the log to catch up
    conversation = "web:" + session_id.rsplit(".", 1)[0]  # id = "<token>.<signature>"
    deadline = time.monotonic() + 30
    said = user_texts(e2e_database_url, conversation)
    while not said[-1].startswith("I heard a loud pop") and time.monotonic() < deadline:
        time.sleep(0.5)
        said = user_texts(e2e_database_url, conversation)
    assert said[0] == "do heel lifts help?"
    assert said[-1].startswith("I heard a loud pop"), "after the reload: same conversation"
    assert not [e for e in console_errors if "favicon" not in e], console_errors


def test_widget_fits_a_phone_screen(running_bot, browser_context_factory):
    context = browser_context_factory(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True,
                                      device_scale_factor=2)
    page = context.pages[0] if context.pages else context.new_page()
    open_chat(page, running_bot.web_url)
    ask(page, "do heel lifts help?")
    page.locator(".msg--bot:has(.msg__sources)").first.wait_for(timeout=REPLY_TIMEOUT)
    panel = page.locator(".chat__panel").bounding_box()
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= 375
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
    send = page.locator(".chat__send").bounding_box()
    assert send["height"] >= 44  # a comfortable touch target
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "widget-phone.png"))
