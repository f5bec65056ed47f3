"""Follow-ups resolve against the last topic (bot/nlp/followup.py), with cards' text from a small fake."""
from __future__ import annotations

import pytest

from bot.nlp.followup import is_followup, resolve_topic, severity_hint

CARDS = {
    "return_to_running": "Start with run-walk. You are ready when you can do 20 single-leg calf raises and hop "
                         "without pain; add about one mile every 1-2 weeks.",
    "exercises": "Isometric holds of 45 seconds, then 3 sets of 15 heavy slow resistance calf raises, then "
                 "plyometrics.",
    "symptoms": "Morning stiffness, pain after a run, a thickened tendon.",
    "keep_running": "Shorten your runs, avoid hills and speed work, cross-train with cycling or pool running.",
    "medication": "Ibuprofen can ease pain for a short time.",
}
FOLLOW_UPS = {"medication": ["rest_ice", "treatments"]}


QUESTIONS = {"stretching": "Should I stretch?", "exercises": "Which exercises help?", "rest_ice": "Rest or ice?"}


def resolve(text: str, last: str | None, classified: str | None) -> str | None:
    return resolve_topic(text, last, classified, CARDS.__getitem__, lambda t: FOLLOW_UPS.get(t, []),
                         lambda t: QUESTIONS.get(t, ""))


@pytest.mark.parametrize("text, last, classified, expected", [
    # numbers asked about the last answer stay on it, whatever the words alone suggest
    ("how many calf raises exactly?", "return_to_running", "exercises", "return_to_running"),
    ("how many hops?", "return_to_running", "exercises", "return_to_running"),
    ("and how many sets exactly?", "exercises", "return_to_running", "exercises"),
    ("how many exactly?", "return_to_running", None, "return_to_running"),
    # what to do about a described problem: the management card; about a plan: the plan itself
    ("what can I do about it?", "symptoms", "symptoms", "exercises"),
    ("what can I do instead then?", "keep_running", "what_is_tendinopathy", "keep_running"),
    ("what else helps with the pain?", "medication", "rehab_mistakes", "rest_ice"),
    # a new topic in a short message is not a follow-up of the last one
    ("should I ice it?", "exercises", "rest_ice", "rest_ice"),
    ("so should I be stretching it?", "exercises", "stretching", "stretching"),   # the message names the topic
    ("which exercises for mine then?", "return_to_running", "exercises", "exercises"),
    ("what shoes should I buy for running on trails and roads next month?", "exercises", "footwear", "footwear"),
    # the classifier found nothing (the fallback): half the content words in the last card is enough
    ("how fast can I add distance?", "return_to_running", None, "return_to_running"),
    ("how fast can I build the distance?", "return_to_running", None, "return_to_running"),   # half: "mile"
    ("how fast can I build the distance?", "return_to_running", "exercises", "exercises"),   # a topic, not all
    ("how fast can I add distance?", "return_to_running", "exercises", "return_to_running"),  # distance ~ mile
    ("how fast do people get scans?", "return_to_running", None, None),
    # nothing to follow up: the classifier's topic
    ("how many calf raises exactly?", None, "exercises", "exercises"),
])
def test_resolve_topic(text, last, classified, expected):
    assert resolve(text, last, classified) == expected


def test_a_long_message_is_never_a_followup():
    assert not is_followup("so I have been running for years and it started hurting after my last marathon, "
                           "what can I do about it?")
    assert is_followup("and if it's chronic?")


def test_severity_comes_from_the_latest_word_then_the_slots():
    assert severity_hint("mild", "chronic", "a year") == "mild"
    assert severity_hint(None, None, "a year") == "a year"
    assert severity_hint(None, None, None) is None
