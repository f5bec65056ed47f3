"""Unit tests of channel-neutral message shaping: splitting, numbered options, "2" mapping, urgency mark."""
from __future__ import annotations

import pytest
from rasa.shared.core.events import BotUttered, UserUttered

from bot.channels.messages import (
    choose_option,
    mark_urgent,
    numbered_options,
    offered_buttons,
    split_message,
    with_numbered_options,
)

BUTTONS = [{"title": "Tell me more", "payload": "/tell_me_more"},
           {"title": "Which exercises help?", "payload": "/ask_exercises"}]


def test_short_text_is_one_part():
    assert split_message("  Heel lifts can help.  ", 4096) == ["Heel lifts can help."]


@pytest.mark.parametrize("limit", [1600, 4096])
def test_long_text_splits_at_paragraphs_within_the_limit(limit):
    paragraphs = [f"Paragraph {n}. " + "word " * 150 for n in range(40)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    parts = split_message(text, limit)
    assert len(parts) > 1
    assert all(len(part) <= limit for part in parts)
    assert all(part.startswith("Paragraph") for part in parts)  # breaks fall between paragraphs
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())  # nothing lost


def test_one_long_paragraph_splits_between_words_and_one_long_word_is_cut():
    parts = split_message("abc " * 1000, 1600)
    assert all(len(p) <= 1600 for p in parts) and all(not p.endswith(" ") for p in parts)
    assert "".join(parts).replace(" ", "") == "abc" * 1000
    assert split_message("x" * 5000, 1600) == ["x" * 1600, "x" * 1600, "x" * 1600, "x" * 200]


def test_a_break_exactly_at_the_limit_is_used():
    assert split_message("a" * 10 + "\n\n" + "b" * 5, 10) == ["a" * 10, "b" * 5]


def test_numbered_options_and_reply_mapping():
    assert numbered_options(BUTTONS) == "1. Tell me more\n2. Which exercises help?"
    assert with_numbered_options("Answer.", BUTTONS).endswith("1. Tell me more\n2. Which exercises help?")
    assert with_numbered_options("Answer.", []) == "Answer."
    assert choose_option("2", BUTTONS) == "/ask_exercises"
    assert choose_option(" 1. ", BUTTONS) == "/tell_me_more"
    assert choose_option("which exercises help?", BUTTONS) == "/ask_exercises"
    assert choose_option("3", BUTTONS) is None           # not an offered number: the text goes to NLU as is
    assert choose_option("2 weeks ago", BUTTONS) is None
    assert choose_option("2", None) is None


def test_offered_buttons_are_those_of_the_latest_bot_turn_only():
    events = [UserUttered("do heel lifts help?"), BotUttered("Answer", data={"buttons": BUTTONS})]
    assert offered_buttons(events) == BUTTONS
    assert offered_buttons(events + [BotUttered("More text")]) == BUTTONS
    assert offered_buttons(events + [UserUttered("thanks"), BotUttered("You're welcome")]) is None
    as_dicts = [e.as_dict() for e in events]
    assert offered_buttons(as_dicts) == BUTTONS


def test_the_urgent_mark_comes_from_the_triage_metadata_never_from_the_wording():
    """Issue 12: every advice message carries its level; a text that merely quotes the advice is not marked."""
    from bot.triage.advice import level_advice

    emergency = "That could be a tear.\n" + level_advice("emergency")
    assert mark_urgent(emergency, {"triage": {"level": "emergency", "flags": ["chest_symptoms"]}}).startswith("⚠️ ")
    assert mark_urgent(emergency, {"metadata": {"triage": {"level": "same_day"}}}).startswith("⚠️ ")  # a response's
    assert mark_urgent(emergency, {}) == emergency
    assert mark_urgent(emergency, {"triage": {"level": "urgent-ish"}}) == emergency  # not a level


def test_urgent_mark_only_for_urgent_triage():
    assert mark_urgent("Call 999 now.", {"triage": {"level": "emergency"}}) == "⚠️ Call 999 now."
    assert mark_urgent("Book soon.", {"triage": {"level": "soon"}}) == "Book soon."
    assert mark_urgent("Heel lifts can help.", {}) == "Heel lifts can help."
