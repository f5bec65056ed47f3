"""No health data in logs (bot/server/log_privacy.py, the escalation log line in bot/notify.py): a red-flag
conversation with the contact form through the real bot leaves none of the typed words, the name or the phone
number in any log file, at the levels the bot runs with and with DEBUG logging asked for."""
from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from bot.server import log_privacy
from tests.security.conftest import REST_PATH, client_from

pytestmark = pytest.mark.security

# Made-up details, in words that occur nowhere in the bot's data, responses or code.
NAME_FIRST, NAME_LAST = "Philippa", "Quenbywick"
PHONE_TYPED, PHONE_DIGITS, PHONE_E164 = "07700 900461", "07700900461", "+447700900461"
PLACE, TRIP = "Inverkeithing", "coach trip"
RED_FLAG = (f"my left calf went hot and swollen after the long {TRIP} back from {PLACE} "
            "and it hurts to put weight on")
FORBIDDEN = [RED_FLAG, PLACE, TRIP, f"{NAME_FIRST} {NAME_LAST}", NAME_FIRST, NAME_LAST, PHONE_TYPED, PHONE_DIGITS,
             PHONE_E164, "7700900461", "900461"]


def red_flag_conversation(post, sender: str) -> list[str]:
    """Red flag, yes to contact, name, phone, consent: the replies' texts, turn by turn."""
    replies = []
    for message in (RED_FLAG, "yes", f"{NAME_FIRST} {NAME_LAST}", PHONE_TYPED, "yes"):
        response = post({"sender": sender, "message": message})
        assert response.status_code == 200, response.text
        replies.append("\n".join(m.get("text") or "" for m in response.json()))
    return replies


def assert_the_conversation_went_through(replies: list[str]) -> None:
    assert "today" in replies[0]                       # the urgent advice
    assert "name" in replies[1].lower()                # the contact form asked for the name
    assert "phone" in replies[2].lower()               # ... then for the number
    assert NAME_FIRST in replies[4]                    # and thanked the person by name


def log_files(folder: Path) -> dict[str, str]:
    time.sleep(1.0)  # the servers write their lines as they handle the request; give the last one a moment
    files = {path.name: path.read_text(errors="replace") for path in sorted(folder.glob("*.log"))}
    assert {"actions.log", "rasa.log"} <= set(files), sorted(files)
    return files


def leaks(files: dict[str, str]) -> list[str]:
    found = []
    for name, content in files.items():
        lowered = content.lower()
        found += [f"{name}: {word!r}" for word in FORBIDDEN if word.lower() in lowered]
    return found


def escalation_messages(database_url: str, sender: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [row[0] for row in connection.execute(
                text("SELECT message FROM escalations WHERE conversation_id LIKE :s"), {"s": f"%{sender}%"})]
    finally:
        engine.dispose()


def test_no_words_names_or_numbers_in_the_logs(running_bot, e2e_database_url):
    sender = f"privacy-{uuid.uuid4().hex[:10]}"
    replies = red_flag_conversation(
        lambda body: requests.post(f"{running_bot.rasa_url}{REST_PATH}", json=body, timeout=120), sender)
    assert_the_conversation_went_through(replies)
    # the words reached the clinic's database (the one place to read them) ...
    assert RED_FLAG in escalation_messages(e2e_database_url, sender)
    log_dir = Path(running_bot.services[0].log_file).parent
    files = log_files(log_dir)
    # ... the escalation was logged, by its id, level and flags ...
    escalation_lines = [line for line in files["actions.log"].splitlines()
                        if "escalation {" in line and sender in line]
    assert escalation_lines and all("possible_clot_calf" in line for line in escalation_lines)
    # ... and no log file holds what the person typed
    assert leaks(files) == []


def test_debug_logging_asked_for_still_leaks_nothing(protected_bot):
    # LOG_LEVEL=DEBUG and LOG_LEVEL_LIBRARIES=DEBUG: Rasa would log every message, slot and tracker
    client = client_from("127.0.0.31")
    sender = f"privacy-debug-{uuid.uuid4().hex[:10]}"
    replies = red_flag_conversation(
        lambda body: client.post(protected_bot.rest_url, json=body, headers=protected_bot.auth(), timeout=120),
        sender)
    assert_the_conversation_went_through(replies)
    assert RED_FLAG in escalation_messages(protected_bot.database_url, sender)
    files = log_files(protected_bot.log_dir)
    assert " DEBUG " not in files["rasa.log"] and " DEBUG " not in files["actions.log"]
    assert leaks(files) == []


# --- the redaction itself, on the shapes the libraries log ---
@pytest.mark.parametrize("line, kept", [
    ('{"text": "my calf is swollen", "event": "rest.message.received.failure", "level": "error"}',
     "rest.message.received.failure"),                                                       # Rasa's structlog
    ("event=rest.message.received.timeout text='my calf is swollen'", "rest.message.received.timeout"),
    ("{'text': \"it's my calf is swollen\", 'intent': {'name': 'red_flag'}}", "red_flag"),   # a dict repr
    ('slot contact_details="my calf is swollen" set', "set"),
])
def test_content_keys_are_redacted(line, kept):
    redacted = log_privacy.redact_text(line)
    assert "swollen" not in redacted and kept in redacted and log_privacy.REDACTED in redacted


@pytest.mark.parametrize("line, secret", [
    ("handling the message from whatsapp:+447700900461 failed", "900461"), ("call 07700 900461", "900461"),
    ("ring +44 (0)7700 900461", "900461"), ("number 0044 7700 900461", "900461"),
    ("reach me at jo.bloggs@example.co.uk", "jo.bloggs"),
])
def test_phone_numbers_and_emails_are_replaced(line, secret):
    redacted = log_privacy.redact_text(line)
    assert secret not in redacted and ("[phone:" in redacted or "[email]" in redacted), redacted


def test_a_phone_gets_the_same_pseudonym_each_time():
    first = log_privacy.redact_text("from whatsapp:+447700900461")
    assert first == log_privacy.redact_text("from whatsapp:+447700900461")
    assert first != log_privacy.redact_text("from whatsapp:+447700900462")


@pytest.mark.parametrize("line", [
    "escalation 12 for conversation rest:abc level emergency", "took 0.8734 s", "2026-12-02 06:01:24",
    "listening on http://127.0.0.1:5005/webhooks/rest/webhook", "model 3fa2c1d4e5f60718293a4b5c6d7e8f90",
    "flags possible_clot_calf, rupture_pop_snap",
])
def test_ids_times_and_flags_stay_readable(line):
    assert log_privacy.redact_text(line) == line


def test_tracebacks_keep_frames_and_lose_bodies():
    body = json.dumps({"request_body": {"text": RED_FLAG}})
    try:
        raise RuntimeError(f"500, Internal Server Error, body='{body}'")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "action failed", None, sys.exc_info())
    log_privacy.redact_record(record)
    formatted = logging.Formatter().format(record)
    assert PLACE not in formatted and "RuntimeError: 500, Internal Server Error" in formatted
    assert "test_tracebacks_keep_frames_and_lose_bodies" in formatted  # the frame is still there


WEB_FAILURE = """
import sys
from unittest import mock

import sqlalchemy.exc

import bot.web.__main__ as web


def failing_request(app, **_):
    # what Flask logs when a view fails: its traceback, whose SQL error quotes the query's parameters
    try:
        raise sqlalchemy.exc.OperationalError("SELECT * FROM events WHERE data LIKE ?", ("%{place}%",),
                                              Exception("database is locked"))
    except sqlalchemy.exc.OperationalError:
        app.logger.exception("Exception on /staff/api/conversations [GET]")


with mock.patch.object(web, "serve", failing_request), mock.patch("bot.staff.alerts.start_renotifier"), \\
        mock.patch.object(sys, "argv", ["bot.web"]):
    web.main()
"""


def test_the_web_app_redacts_what_a_failed_request_logs(tmp_path):
    import os
    import subprocess

    env = dict(os.environ, CLINIC_DATABASE_URL=f"sqlite:///{tmp_path}/clinic.db",
               CLINIC_SECRET_KEY="test-web-log-secret")
    result = subprocess.run([sys.executable, "-c", WEB_FAILURE.format(place=PLACE)], env=env, cwd=Path.cwd(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Exception on /staff/api/conversations" in result.stderr and "database is locked" in result.stderr
    assert PLACE not in result.stderr, result.stderr[-2000:]
