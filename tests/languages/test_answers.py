"""Translated answers: every translation keeps the numbers of its English sentence and matches its card; the
answer action shows the translation in the visitor's language with the card's sources, or, where a card has no
translation, the English answer with a note in the visitor's language and the offer of the team."""
from __future__ import annotations

import re

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerTopic
from actions.translated_answer import LANGUAGES, TRANSLATIONS_DIR, card_translation, localise, notes
from knowledge.answers import answer_for_topic, more_for_topic

FILES = sorted(TRANSLATIONS_DIR.glob("*/*.yml"))
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def test_there_are_translations_in_every_language():
    assert {path.parent.name for path in FILES} == set(LANGUAGES)


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_each_translation_keeps_every_number_and_matches_its_card(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["translation"].startswith("pending clinical review") or "reviewed by" in data["translation"]
    card_text = (TRANSLATIONS_DIR.parent / "cards" / f"{data['card']}.yml").read_text(encoding="utf-8")
    for sentence in data["sentences"]:
        assert sentence["en"] in card_text, f"{path}: not a sentence of the card: {sentence['en']!r}"
        english, translated = NUMBER.findall(sentence["en"]), NUMBER.findall(sentence["text"])
        assert sorted(english) == sorted(translated), f"{path}: numbers {english} vs {translated}"


def _run(language: str | None, intent: str) -> list[dict]:
    tracker = Tracker.from_dict({
        "sender_id": "t", "slots": {"language": language}, "latest_message": {
            "intent": {"name": intent, "confidence": 0.9}, "intent_ranking": [{"name": intent, "confidence": 0.9}],
            "entities": [], "text": f"/{intent}"},
        "events": [], "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": None})
    dispatcher = CollectingDispatcher()
    ActionAnswerTopic().run(dispatcher, tracker, {})
    return dispatcher.messages


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_translated_card_is_shown_in_the_visitors_language_with_its_numbers_and_sources(language):
    english = answer_for_topic("recovery_time")
    [message] = _run(language, "ask_recovery_time")
    table = card_translation(language, "recovery_time")
    assert notes()[language]["translated"] in message["text"]
    for sentence in english.sentences:
        assert table[sentence.text] in message["text"]
        assert sentence.text not in message["text"]
    for number in NUMBER.findall(english.text):
        assert number in message["text"]
    for source in english.sources:
        assert source.title in message["text"]  # the sources are named (in their own words)


def test_a_missing_translation_says_so_shows_the_english_and_offers_the_team(tmp_path):
    # a translation directory where the card has no file (every real card is translated: the test below)
    (tmp_path / "zh-Hant").mkdir()
    answer = answer_for_topic("exercises")
    shown, note, buttons = localise(answer, "zh-Hant", directory=tmp_path)
    assert shown == answer
    assert note == notes()["zh-Hant"]["missing"]
    assert buttons == [(notes()["zh-Hant"]["team_button"], "/request_human")]
    partial = tmp_path / "zh-Hant" / "exercises.yml"  # one sentence left out: the whole answer stays English
    first, *rest = [s.text for s in answer.sentences]
    partial.write_text(yaml.safe_dump({"translation": "pending clinical review", "card": "exercises",
                                       "language": "zh-Hant", "sentences": [{"en": t, "text": "譯"} for t in rest]},
                                      allow_unicode=True), encoding="utf-8")
    assert localise(answer, "zh-Hant", directory=tmp_path)[1] == notes()["zh-Hant"]["missing"]


def _every_answer(card: str):
    for kind in (None, "insertional", "midportion"):
        for severity in (None, "mild", "chronic"):
            yield f"{kind}/{severity}", answer_for_topic(card, tendinopathy_type=kind, severity=severity)
        yield f"{kind}/more", more_for_topic(card, tendinopathy_type=kind)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("card", sorted(p.stem for p in (TRANSLATIONS_DIR.parent / "cards").glob("*.yml")))
def test_every_card_is_translated_whatever_variant_is_shown(language, card):
    for variant, answer in _every_answer(card):
        shown, note, buttons = localise(answer, language)
        assert note == notes()[language]["translated"], f"{language}/{card} {variant}: a sentence has no translation"
        assert buttons == []
        for sentence in answer.sentences:
            assert sentence.text not in shown.text, f"{language}/{card} {variant}: left in English"


def test_english_and_unknown_languages_are_unchanged():
    answer = answer_for_topic("recovery_time")
    for language in (None, "en", "fr"):
        assert localise(answer, language) == (answer, None, [])
