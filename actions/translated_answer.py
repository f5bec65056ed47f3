"""Answers in the visitor's language: a card's translation (knowledge/translations/<lang>/<card>.yml) or, when it
is missing, the English answer with a note in the visitor's language and the offer of the team; and the card's
question (a button title) from the same file."""
from __future__ import annotations

import dataclasses
from functools import lru_cache
from pathlib import Path

import yaml

from bot.translation_files import marked_for_review
from knowledge.answers import Answer

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "translations"
LANGUAGES = ("zh-Hant", "zh-Hans", "es")
TEAM_PAYLOAD = "/request_human"


@lru_cache(maxsize=128)
def _card_file(language: str, card: str, directory: Path = TRANSLATIONS_DIR) -> dict:
    """One card's translation file, {} when the card has no translation."""
    path = directory / language / f"{card}.yml"
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if data.get("card") != card or data.get("language") != language:
        raise ValueError(f"{path}: card and language must be {card!r} and {language!r}")
    if not marked_for_review(data):
        raise ValueError(f"{path}: say who reviewed it (translation: pending clinical review ... / reviewed by ...)")
    return data


@lru_cache(maxsize=64)
def card_translation(language: str, card: str, directory: Path = TRANSLATIONS_DIR) -> dict[str, str]:
    """English sentence -> translated sentence for one card, {} when the card has no translation."""
    data = _card_file(language, card, directory)
    return {str(s["en"]).strip(): str(s["text"]).strip() for s in data.get("sentences") or []}


def card_question(card: str, english: str, language: str | None, directory: Path = TRANSLATIONS_DIR) -> str:
    """The card's question (a button title) in `language`: the translation file's `question:` when it translates
    this English question; else the English one (no translation, or the card's question changed since)."""
    if language not in LANGUAGES:
        return english
    question = _card_file(language, card, directory).get("question") or {}
    if isinstance(question, dict) and str(question.get("en") or "").strip() == english.strip() and question.get("text"):
        return str(question["text"]).strip()
    return english


@lru_cache(maxsize=4)
def notes(directory: Path = TRANSLATIONS_DIR) -> dict[str, dict[str, str]]:
    return yaml.safe_load((directory / "notes.yml").read_text(encoding="utf-8")) or {}


def localise(answer: Answer, language: str | None,
             directory: Path = TRANSLATIONS_DIR) -> tuple[Answer, str | None, list[tuple[str, str]]]:
    """(answer to show, preface note, extra buttons). English or an unsupported language: unchanged. Every
    sentence shown must have its translation, else the English answer is shown with the 'missing' note."""
    if language not in LANGUAGES or answer.topic == "retrieved":
        return answer, None, []
    table = card_translation(language, answer.topic, directory)
    note = notes()[language]
    shown = [s.text for s in answer.sentences] or [answer.text]
    if not table or any(sentence.strip() not in table for sentence in shown):
        return answer, note["missing"], [(note["team_button"], TEAM_PAYLOAD)]
    text, disagreement = answer.text, answer.disagreement
    for english, translated in sorted(table.items(), key=lambda item: -len(item[0])):
        text = text.replace(english, translated)
        disagreement = disagreement.replace(english, translated) if disagreement else disagreement
    advice = tuple(table.get(a, a) for a in answer.clinic_advice)
    return dataclasses.replace(answer, text=text, disagreement=disagreement, clinic_advice=advice), \
        note["translated"], []
