"""Red flags in zh-Hant, zh-Hans and es: the lexicons' own examples, the per-language suites through the detector
and through the NLU components, and the English suite unchanged by the extra lexicons."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.training_data.message import Message

from bot.nlp.language_detector import LanguageDetector
from bot.nlp.red_flag_detector import RedFlagDetector
from bot.triage.detect import detect_red_flags
from bot.triage.flags import load_flag_file
from bot.triage.multilingual import LEXICON_LANGUAGES, detect_in_language, load_lexicon, with_other_languages
from tests.red_flags.suite import load_suite

HERE = Path(__file__).parent
SUITES = {language: load_suite(HERE / f"red_flags_{language}.yml") for language in LEXICON_LANGUAGES}
CASES = [(language, case) for language, cases in SUITES.items() for case in cases]
FLAGS = load_flag_file()


def _examples():
    for language in LEXICON_LANGUAGES:
        for flag_id, examples in load_lexicon(language).examples.items():
            for text in examples["positive"]:
                yield language, flag_id, text, True
            for text in examples["negative"]:
                yield language, flag_id, text, False


EXAMPLES = list(_examples())


def read(text: str):
    """The detector as the NLU component runs it: English patterns plus the message's language lexicons."""
    return with_other_languages(detect_red_flags(text), text, None)


@pytest.mark.parametrize("language,flag_id,text,positive", EXAMPLES,
                         ids=[f"{lang}-{flag}-{'pos' if pos else 'neg'}{i}"
                              for i, (lang, flag, _, pos) in enumerate(EXAMPLES)])
def test_lexicon_examples(language, flag_id, text, positive):
    detection = detect_in_language(text, language)
    if positive:
        assert flag_id in detection.flags, (text, detection.flags)
        assert detection.level == FLAGS.flag(flag_id).level
    else:
        assert flag_id not in detection.flags, (text, detection.flags, [s.text for s in detection.spans])


def test_every_flag_has_examples_in_every_language():
    for language in LEXICON_LANGUAGES:
        lexicon = load_lexicon(language)
        assert {f.id for f in FLAGS.flags} - {"chest_symptoms_with_calf"} <= set(lexicon.examples), language
        assert lexicon.path.read_text(encoding="utf-8").count("translation: pending clinical review") == 1


@pytest.mark.parametrize("language,case", CASES, ids=[f"{lang}-{c.id}" for lang, c in CASES])
def test_suite_case_through_the_detector(language, case):
    detection = read(case.text)
    assert detection.level == case.level, (case.text, detection.flags, [s.text for s in detection.spans])
    assert set(case.flags) <= set(detection.flags), (case.text, detection.flags)


def test_each_suite_covers_every_level_and_the_hard_negatives():
    for language, cases in SUITES.items():
        assert {c.level for c in cases} == {"emergency", "same_day", "soon", None}, language
        tags = {t for c in cases if not c.positive for t in c.tags}
        assert {"negation", "hypothetical", "third_person", "history", "idiom", "question"} <= tags, language


@pytest.fixture(scope="module")
def components():
    return (LanguageDetector(LanguageDetector.get_default_config()),
            RedFlagDetector(RedFlagDetector.get_default_config()))


def _parse(components, text: str) -> Message:
    """What the pipeline does after the classifier: language, then red flags (classifier said ask_keep_running)."""
    message = Message(data={"text": text})
    message.set("intent", {"name": "ask_keep_running", "confidence": 0.6}, add_to_output=True)
    message.set("intent_ranking", [{"name": "ask_keep_running", "confidence": 0.6}], add_to_output=True)
    language, red_flags = components
    language.process([message])
    red_flags.process([message])
    return message


@pytest.mark.parametrize("language,case", CASES, ids=[f"{lang}-{c.id}" for lang, c in CASES])
def test_suite_case_through_the_nlu_components(components, language, case):
    message = _parse(components, case.text)
    output = message.as_dict(only_output_properties=True)
    if "mixed" not in case.tags:  # a message mostly in English may be detected as English: still triaged
        assert output["language"].startswith(language[:2]), output["language"]
    assert output["red_flags"]["level"] == case.level, (case.text, output["red_flags"]["flags"])
    if case.positive:
        assert message.get("intent") == {"name": "red_flag", "confidence": 1.0}
        values = {e["value"] for e in message.get("entities") if e["entity"] == "red_flag"}
        assert values == set(output["red_flags"]["flags"])
    else:
        assert message.get("intent")["name"] == "ask_keep_running"


def test_the_english_suite_is_read_exactly_as_before():
    for case in load_suite():
        for turn in case.turns:
            english = detect_red_flags(turn)
            both = read(turn)
            assert (both.level, both.flags) == (english.level, english.flags), turn


def test_a_broken_lexicon_is_reported_with_its_file(tmp_path):
    source = (HERE.parent.parent / "bot" / "triage" / "lexicon" / "es.yml").read_text(encoding="utf-8")
    data = yaml.safe_load(source)
    data["flags"] = [f for f in data["flags"] if f["id"] != "tendon_gap"]
    (tmp_path / "es.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match=r"es\.yml.*tendon_gap"):
        load_lexicon("es", tmp_path)
    data = yaml.safe_load(source)
    data["flags"][0].setdefault("patterns", []).append("@no_such_group *2 talon")
    (tmp_path / "es.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    load_lexicon.cache_clear()
    with pytest.raises(ValueError, match="unknown vocab group @no_such_group"):
        load_lexicon("es", tmp_path)
    load_lexicon.cache_clear()


def test_a_failing_lexicon_leaves_the_english_reading(monkeypatch):
    import bot.triage.multilingual as multilingual

    def broken(text, language, previous=()):
        raise RuntimeError("lexicon broken")

    monkeypatch.setattr(multilingual, "detect_in_language", broken)
    english = detect_red_flags("I heard a pop in my achilles")
    assert with_other_languages(english, "I heard a pop in my achilles, 啪一聲", "zh-Hant").flags == english.flags
