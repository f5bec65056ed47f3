"""The red-flag suite end to end over REST: every case of tests/red_flags/suite.yml through the real bot (NLU
pipeline with RedFlagDetector, rules, action server, clinic database). Positives get their level's advice,
negatives get none; the escalation is recorded; a red flag typed into the contact form still escalates."""
from __future__ import annotations

import pytest
import requests
from sqlalchemy import create_engine, text

from bot.channels.settings import max_message_chars
from bot.clinic_profile import clinic_profile
from bot.triage.advice import level_advice
from tests.red_flags.suite import load_suite
from tests.rest import new_sender, reply_text, rest_conversation, say

pytestmark = pytest.mark.e2e

SUITE = load_suite()
LEVELS = ("emergency", "same_day", "soon")
# The first line of each level's advice (bot/triage/advice.yml, filled from clinic.yml): it appears only in an
# escalation (reminders and the contact form use other words).
ADVICE_LINE = {level: level_advice(level).splitlines()[0] for level in LEVELS}
PROFILE = clinic_profile()
# and one distinctive fact per level, as the runner reads it
FACT = {"emergency": f"call {PROFILE.emergency_number} now", "same_day": "today", "soon": PROFILE.booking_url}


def test_the_advice_lines_tell_the_levels_apart():
    assert len(set(ADVICE_LINE.values())) == len(LEVELS)
    for level in LEVELS:
        assert FACT[level] in level_advice(level)


def assert_turn(case_id: str, turn: str, expected: str | None, reply: str) -> None:
    shown = [level for level in LEVELS if ADVICE_LINE[level] in reply]
    if expected is None:
        assert not shown, f"{case_id}: no escalation expected for {turn!r}, got {shown}: {reply!r}"
    else:
        assert shown == [expected], f"{case_id}: expected {expected} for {turn!r}, got {shown}: {reply!r}"
        assert FACT[expected] in reply


@pytest.mark.parametrize("case", SUITE, ids=[c.id for c in SUITE])
def test_suite_case_over_rest(running_bot, case):
    sender = new_sender(f"rf-{case.id[:20]}")
    for turn, expected in zip(case.turns, case.levels, strict=True):
        if len(turn) > max_message_chars():  # not read: a clear 413 whose reply names the numbers to call
            assert expected is None, f"{case.id}: a red flag longer than the message limit cannot be read"
            refused = requests.post(f"{running_bot.rasa_url}/webhooks/rest/webhook", timeout=60,
                                    json={"sender": sender, "message": turn})
            assert refused.status_code == 413 and PROFILE.emergency_number in refused.json()["reply"]
            continue
        reply = reply_text(say(running_bot.rasa_url, sender, turn))
        assert_turn(case.id, turn, expected, reply)


def escalation_rows(database_url: str, sender: str) -> list:
    engine = create_engine(database_url)
    with engine.connect() as connection:
        return connection.execute(
            text("SELECT level, flags, message, status FROM escalations"
                 " WHERE conversation_id = :s ORDER BY id"),
            {"s": rest_conversation(sender)},
        ).fetchall()


def test_a_positive_leaves_an_escalation_record(running_bot, e2e_database_url):
    sender = new_sender("rf-record")
    message = "felt a snap in my achilles at parkrun and now I can't stand on tiptoe"
    reply = reply_text(say(running_bot.rasa_url, sender, message))
    assert ADVICE_LINE["same_day"] in reply
    rows = escalation_rows(e2e_database_url, sender)
    assert len(rows) == 1
    assert rows[0].level == "same_day" and rows[0].status == "open" and rows[0].message == message
    assert "rupture_pop_snap" in rows[0].flags.split(",")


def test_a_red_flag_typed_into_the_contact_form_still_escalates(running_bot, e2e_database_url):
    sender = new_sender("rf-form")
    first = reply_text(say(running_bot.rasa_url, sender, "my heel has been sore for a month, getting worse"))
    assert ADVICE_LINE["soon"] in first
    asked_name = reply_text(say(running_bot.rasa_url, sender, "yes"))
    assert "name" in asked_name.lower()
    # instead of a name: a new, more severe red flag
    reply = reply_text(say(running_bot.rasa_url, sender, "wait, I just heard a loud pop in my achilles"))
    assert ADVICE_LINE["same_day"] in reply and FACT["same_day"] in reply
    rows = escalation_rows(e2e_database_url, sender)
    assert rows and rows[-1].level == "same_day"
    assert "rupture_pop_snap" in ",".join(row.flags for row in rows)
    # the form was stopped: a plain question now gets an answer, not "what is your name"
    after = reply_text(say(running_bot.rasa_url, sender, "do heel lifts help?"))
    assert "Sources:" in after
