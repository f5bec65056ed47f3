"""Issue #15: "停止", "取消", "唔要喇", "cancelar", "no quiero" end the contact form like "stop" does, from one data
file per language (bot/triage/cancel_words/<lang>.yml), and a name or a phone number never does, in any language.
The replies are a table: tests/triage/cancel_replies.yml."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from actions.escalation import ValidateContactForm
from bot.triage import cancel
from bot.triage.cancel import CANCEL_DIR, is_cancel, load_cancel_words
from bot.triage.english_words import english_words
from tests.triage.conftest import make_tracker

SUITE = yaml.safe_load(Path(__file__).with_name("cancel_replies.yml").read_text(encoding="utf-8"))
LANGUAGES = ("zh-Hant", "zh-Hans", "es")
CONVERSATION_LANGUAGES = ("en", *LANGUAGES, None)


def cases(kind: str) -> list[tuple[str, str]]:
    return [(language, text) for language, lists in SUITE.items() for text in lists[kind] or []]


@pytest.mark.parametrize("language,text", cases("cancel"))
def test_a_refusal_ends_the_form_whatever_the_conversation_language(language, text):
    for conversation in CONVERSATION_LANGUAGES:
        assert is_cancel(text, conversation), f"{text!r} (a {language} refusal) in a {conversation} conversation"


@pytest.mark.parametrize("language,text", cases("in_language_only"))
def test_a_word_that_also_means_something_else_ends_the_form_only_in_its_language(language, text):
    assert is_cancel(text, language)
    for conversation in CONVERSATION_LANGUAGES:
        if conversation != language:
            assert not is_cancel(text, conversation), f"{text!r} in a {conversation} conversation"


@pytest.mark.parametrize("language,text", cases("keep"))
def test_a_name_number_or_longer_reply_never_ends_the_form(language, text):
    for conversation in CONVERSATION_LANGUAGES:
        assert not is_cancel(text, conversation), f"{text!r} read as a refusal in a {conversation} conversation"


def test_every_english_cancel_word_still_ends_the_form():
    for word in english_words().cancel_words:
        assert is_cancel(word) and is_cancel(word.upper() + ".", "es")


def test_the_suite_covers_every_language_file():
    files = {path.stem for path in CANCEL_DIR.glob("*.yml")}
    assert files == set(LANGUAGES)
    assert set(SUITE) == {"en", *LANGUAGES}
    assert {words.language for words in cancel.cancel_words()} == files


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_file_is_marked_for_review(language):
    first = (CANCEL_DIR / f"{language}.yml").read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("translation: pending clinical review by a native-speaking clinician (")


def test_a_malformed_file_names_the_file_and_key(tmp_path):
    mark = "translation: pending clinical review by a native-speaking clinician (x)\n"
    wrong_kind = tmp_path / "es.yml"
    wrong_kind.write_text(mark + "whole: cancelar\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"es\.yml: whole must be a list"):
        load_cancel_words(wrong_kind)
    unknown = tmp_path / "fr.yml"
    unknown.write_text(mark + "entire: [annuler]\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"fr\.yml: unknown key\(s\) entire"):
        load_cancel_words(unknown)
    unmarked = tmp_path / "de.yml"
    unmarked.write_text("whole: [abbrechen]\n", encoding="utf-8")
    assert load_cancel_words(unmarked) is None  # not reviewed: not used (logged), English still works


def test_without_the_language_files_english_still_works(tmp_path, monkeypatch):
    monkeypatch.setattr(cancel, "CANCEL_DIR", tmp_path)
    cancel.cancel_words.cache_clear()
    try:
        assert is_cancel("stop") and not is_cancel("取消") and not is_cancel("Paradis")
    finally:
        cancel.cancel_words.cache_clear()


# --- the contact form itself ---------------------------------------------------------------------------------
def validate(slot: str, value: str, language: str | None, dispatcher) -> dict:
    tracker = make_tracker(text=value, intent="inform", red_flags={},
                           slots={"requested_slot": slot, slot: value, "language": language},
                           active_loop={"name": "contact_form"})
    tracker.events.append({"event": "slot", "name": slot, "value": value})  # what action_extract_slots did
    events = asyncio.run(ValidateContactForm().run(dispatcher, tracker, {"slots": {}, "forms": {
        "contact_form": {"required_slots": ["contact_name", "contact_details", "contact_consent"]}}}))
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.mark.parametrize("slot,value,language", [
    ("contact_name", "cancelar", "es"), ("contact_details", "No, gracias", "es"), ("contact_name", "para", "es"),
    ("contact_name", "停止", "zh-Hant"), ("contact_details", "唔要喇", "zh-Hant"), ("contact_name", "取消", "zh-Hans"),
    ("contact_details", "不用了", "zh-Hans"), ("contact_name", "算了", "en"), ("contact_name", "stop", "es")])
def test_a_refusal_in_the_visitors_language_cancels_the_form(slot, value, language, dispatcher):
    slots = validate(slot, value, language, dispatcher)
    assert slots["contact_cancelled"] is True and slots["requested_slot"] is None
    assert slots["contact_name"] is None and slots["contact_details"] is None


@pytest.mark.parametrize("value,language", [("Paradis", "en"), ("Paradis", "es"), ("Para", "en"), ("Nada", "es"),
                                            ("陳大文", "zh-Hant"), ("María Parada", "es")])
def test_a_name_is_taken_as_the_name(value, language, dispatcher):
    slots = validate("contact_name", value, language, dispatcher)
    assert slots.get("contact_name") == value and "contact_cancelled" not in slots


@pytest.mark.parametrize("value,language", [("07700 900123", "es"), ("+44 20 7946 0958", "zh-Hant")])
def test_a_phone_number_is_taken_as_the_contact(value, language, dispatcher):
    slots = validate("contact_details", value, language, dispatcher)
    assert slots.get("contact_details", "").startswith("+44") and "contact_cancelled" not in slots
