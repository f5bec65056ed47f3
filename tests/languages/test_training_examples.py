"""The per-language NLU data (data/nlu/<language>/) and its held-out questions (tests/languages/heldout_nlu/):
every intent exists in the domain, no training example of another intent raises urgent advice through the
language's red-flag lexicon, and no held-out question is also a training example."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.paths import PROJECT_ROOT
from bot.triage.detect import detect_red_flags
from bot.triage.flags import URGENT_LEVELS
from bot.triage.multilingual import LEXICON_LANGUAGES, with_other_languages
from tests.languages.eval_nlu import held_out

NLU_DIR = PROJECT_ROOT / "data" / "nlu"


def examples(language: str) -> list[tuple[str, str, Path]]:
    found = []
    for path in sorted((NLU_DIR / language).glob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            for line in str(item.get("examples") or "").splitlines():
                if line.strip().startswith("- ") and "intent" in item:
                    found.append((item["intent"], line.strip()[2:].strip(), path))
    return found


def same_text(text: str) -> str:
    """Letters and digits only (any script), lower-cased: "¿Cuánto tardo?" and "cuánto tardo" are the same."""
    return re.sub(r"[\W_]+", "", text.lower())


def domain_intents() -> set[str]:
    intents: set[str] = set()
    for path in (PROJECT_ROOT / "domain").glob("*.yml"):
        intents.update(str(i) for i in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("intents") or [])
    for path in (PROJECT_ROOT / "build" / "rasa").rglob("*.yml"):  # the topic intents derived from the cards
        intents.update(str(i) for i in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("intents") or [])
    return intents


@pytest.mark.parametrize("language", LEXICON_LANGUAGES)
def test_every_example_is_of_a_known_intent(language):
    known = domain_intents()
    assert known, "no domain found (run make build)"
    unknown = sorted({intent for intent, _, _ in examples(language)} - known)
    assert not unknown, f"data/nlu/{language}: intents not in the domain: {unknown}"


@pytest.mark.parametrize("language", LEXICON_LANGUAGES)
def test_no_training_example_of_another_intent_raises_urgent_advice(language):
    """The same bar as the English unseen-corpus check: a topic question or small talk never gets same-day or
    emergency advice. (Red-flag phrasings per language are in tests/languages/red_flags_<language>.yml.)"""
    alarms = []
    for intent, text, path in examples(language):
        if intent == "red_flag":
            continue
        detection = with_other_languages(detect_red_flags(text), text, language)
        if detection.level in URGENT_LEVELS:
            alarms.append(f"{path.name}: {intent}: {text!r} -> {detection.level} {detection.flags}")
    assert not alarms, "\n".join(alarms)


@pytest.mark.parametrize("language", sorted(held_out()))
def test_held_out_questions_are_not_training_examples(language):
    trained = {same_text(text) for lang in LEXICON_LANGUAGES for _, text, _ in examples(lang)}
    copied = [text for text, _ in held_out()[language] if same_text(text) in trained]
    assert not copied, f"tests/languages/heldout_nlu/{language}.yml: also in data/nlu: {copied}"


@pytest.mark.parametrize("language", sorted(held_out()))
def test_held_out_questions_name_known_intents(language):
    known = domain_intents()
    questions = held_out()[language]
    assert len(questions) >= 12
    assert {intent for _, intent in questions} <= known
