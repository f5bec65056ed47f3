"""Ask instead of guess over REST: a red flag suspected by the classifier alone gets the key signs and a yes/no
question (no same-day advice yet); yes escalates at same_day (advice from Rasa, a record), no answers instead."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from bot.clinic_profile import clinic_profile
from bot.triage.advice import level_advice
from tests.rest import new_sender, reply_text, rest_conversation, say

pytestmark = pytest.mark.e2e

QUESTION = "Is any of these happening to you now?"   # domain/red_flag_check.yml, utter_red_flag_check
SAME_DAY = level_advice("same_day").splitlines()[0]
# Vague reports with no sign the patterns know: the current model's classifier alone says red_flag (>= 0.7).
# If a retrain changes that, the first assertion says so: pick a message the classifier flags, never a pattern.
VAGUE = ["my heel area went weird during my run and now it feels wrong",
         "the back of my ankle is not right since this morning's session"]


def _rows(database_url: str, sender: str) -> list:
    with create_engine(database_url).connect() as connection:
        return connection.execute(text("SELECT level, flags, message FROM escalations WHERE conversation_id = :s"),
                                  {"s": rest_conversation(sender)}).fetchall()


@pytest.mark.parametrize("message", VAGUE)
def test_classifier_alone_shows_the_signs_and_asks(running_bot, message):
    replies = say(running_bot.rasa_url, new_sender("check"), message)
    shown = reply_text(replies)
    assert QUESTION in shown, f"the classifier no longer flags {message!r} alone: {shown!r}"
    assert SAME_DAY not in shown  # no same-day advice before the answer
    profile = clinic_profile()
    assert profile.urgent_care in shown and profile.emergency_number in shown and profile.phone in shown
    for sign in ("pop or snap", "tiptoe", "swollen calf", "fever", "chest pain"):
        assert sign in shown
    buttons = [b["payload"] for r in replies for b in r.get("buttons") or []]
    assert buttons == ["/affirm", "/deny"]


def test_yes_escalates_at_same_day(running_bot, e2e_database_url):
    sender = new_sender("check-yes")
    assert QUESTION in reply_text(say(running_bot.rasa_url, sender, VAGUE[0]))
    reply = reply_text(say(running_bot.rasa_url, sender, "/affirm"))
    assert SAME_DAY in reply and "contact you" in reply
    rows = _rows(e2e_database_url, sender)
    assert len(rows) == 1 and rows[0].level == "same_day" and rows[0].message == VAGUE[0]


def test_no_answers_without_escalating(running_bot, e2e_database_url):
    sender = new_sender("check-no")
    assert QUESTION in reply_text(say(running_bot.rasa_url, sender, VAGUE[1]))
    reply = reply_text(say(running_bot.rasa_url, sender, "/deny"))
    assert SAME_DAY not in reply and "good to hear" in reply
    assert "Sources:" in reply or "What would you like to know" in reply
    assert _rows(e2e_database_url, sender) == []


def test_a_detected_red_flag_never_asks(running_bot):
    reply = reply_text(say(running_bot.rasa_url, new_sender("check-det"),
                           "heard a pop at the back of my ankle on the track and now I can't push off"))
    assert SAME_DAY in reply and QUESTION not in reply
