"""An open staff console notices a new urgent escalation at once: banner, desktop notification, sound, and the
queue row with its response timer, without a reload (real browser, real bot)."""
from __future__ import annotations

import pytest

from tests.browser.test_handoff import add_staff
from tests.browser.test_staff_console import log_in
from tests.browser.test_widget import REPLY_TIMEOUT
from tests.rest import new_sender, say

pytestmark = pytest.mark.browser

# Records every desktop notification the page creates (Chromium headless shows none on screen).
RECORD_NOTIFICATIONS = """
window.__notifications = [];
window.Notification = function (title, options) { window.__notifications.push({title: title, options: options}); };
window.Notification.permission = "granted";
window.Notification.requestPermission = function () { return Promise.resolve("granted"); };
"""


def test_a_new_emergency_escalation_alerts_an_open_console(running_bot, e2e_database_url, browser_context_factory):
    username, password = add_staff(e2e_database_url)
    context = browser_context_factory(viewport={"width": 1360, "height": 900})
    context.add_init_script(RECORD_NOTIFICATIONS)
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{running_bot.web_url}/staff/")
    log_in(page, username, password)
    page.click("#nav-escalations")
    page.wait_for_url("**/staff/escalations**")
    page.wait_for_selector("body[data-alerts=connected]", timeout=REPLY_TIMEOUT)

    sender = new_sender("alert")
    say(running_bot.rasa_url, sender, "I heard a loud pop in my achilles during my run and now I can't walk")
    alert = page.locator("#alert-banner .alert-emergency, #alert-banner .alert-same_day").last
    alert.wait_for(timeout=REPLY_TIMEOUT)
    assert "escalation #" in alert.inner_text() and "respond by" in alert.inner_text()
    notifications = page.evaluate("window.__notifications")
    assert notifications and "escalation #" in notifications[-1]["title"]
    # the queue redraws with the new row and its response timer counting down
    row = page.locator("#escalations tbody tr", has_text="pop").first
    row.wait_for(timeout=REPLY_TIMEOUT)
    # timers.js turns the redrawn "due" into a countdown at its next one-second tick
    page.wait_for_function("el => el.textContent.startsWith('due in')", arg=row.locator(".timer").element_handle(),
                           timeout=REPLY_TIMEOUT)
