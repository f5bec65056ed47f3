"""The detector's parts on their own: the typed word lists, the validator registry, the pattern compiler, the
one Level type. (What the parts decide together is tests/red_flags/test_detector.py and the suite.)"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from bot.triage import qualifiers
from bot.triage.context import MessageContext
from bot.triage.detect import RedFlagEngine, _load_nlp, detect_red_flags
from bot.triage.english_words import WORDS_FILE, EnglishWords, load_english_words
from bot.triage.flags import LEVELS, RED_FLAGS_FILE, URGENT_LEVELS, Level, level_rank, load_flag_file


def copy_words(tmp_path: Path, change) -> Path:
    data = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "en.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_every_word_list_is_a_typed_field_of_the_loaded_lexicon():
    words = load_english_words()
    for field in dataclasses.fields(EnglishWords):
        value = getattr(words, field.name)
        assert value, f"{field.name} is empty"
        if field.type == "Phrases":
            assert all(isinstance(p, tuple) and p for p in value)
        elif field.type == "Numbers":
            assert all(isinstance(n, (int, float)) for n in value.values())
        else:
            assert isinstance(value, frozenset) and all(isinstance(w, str) for w in value)
    assert words.unit_days["fortnight"] == 14 and "n't" in words.not_a_subject


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("negation_cues"), "add the word list(s) negation_cues"),
    (lambda d: d.update(made_up_list=["x"]), "unknown word list(s) made_up_list"),
    (lambda d: d.update(unit_days=["day", "week"]), "unit_days: give a map of word: number"),
    (lambda d: d.update(now_phrases=["right now"]), "now_phrases: give each phrase as a list of tokens"),
    (lambda d: d.update(fillers=[["um"]]), "fillers: give single tokens"),
])
def test_a_broken_lexicon_names_the_file_and_the_list(tmp_path, change, message):
    path = copy_words(tmp_path, change)
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        load_english_words(path)
    assert str(path) in str(error.value)


def test_the_word_lists_steer_detection():
    """A qualifier reads its list from the lexicon, not from a constant in the code: without "no" as a cue,
    "no pop" is no longer negated."""
    assert detect_red_flags("I heard no pop in my achilles").flags == []
    words = load_english_words()
    tokens, lemmas = ["i", "heard", "no", "pop"], ["i", "hear", "no", "pop"]
    assert qualifiers.negated(MessageContext(tokens, lemmas), 3, 4, [], False) is True
    without_no = dataclasses.replace(words, negation_cues=words.negation_cues - {"no"})
    assert qualifiers.negated(MessageContext(tokens, lemmas, without_no), 3, 4, [], False) is False


def test_validators_are_registered_by_the_names_the_flag_file_uses():
    used = {f.validator for f in load_flag_file().flags + load_flag_file().signals if f.validator}
    assert used and used <= set(qualifiers.VALIDATORS)
    with pytest.raises(ValueError, match="unknown validator.*lasting_a_while.*known: persistent, swelling"):
        qualifiers.check_validators({"lasting_a_while"}, "red_flags.yml")


def test_a_flag_file_naming_an_unregistered_validator_does_not_load_into_an_engine(tmp_path):
    text = RED_FLAGS_FILE.read_text(encoding="utf-8").replace("validator: persistent", "validator: lasting_a_while", 1)
    assert "lasting_a_while" in text
    path = tmp_path / "red_flags.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="lasting_a_while"):
        RedFlagEngine(load_flag_file(path), _load_nlp())


@pytest.mark.parametrize("words, lemmas, expected", [
    ("sore for three weeks".split(), "sore for three week".split(), True),
    ("ran for three weeks".split(), "run for three week".split(), False),
    ("sore for five days".split(), "sore for five day".split(), False),
])
def test_the_persistent_validator_on_its_own(words, lemmas, expected):
    ctx = MessageContext(words, lemmas)
    assert qualifiers.VALIDATORS["persistent"](ctx, 0, len(words)) is expected


def test_one_level_type_orders_and_names_every_level():
    assert LEVELS == ("emergency", "same_day", "soon") == tuple(Level)
    assert URGENT_LEVELS == ("emergency", "same_day")
    assert [level_rank(level) for level in Level] == [0, 1, 2] and level_rank(None) == 3
    assert Level.SAME_DAY == "same_day" and f"{Level.SOON.value}" == "soon"


def test_the_flag_file_must_list_the_levels_of_the_level_type(tmp_path):
    text = RED_FLAGS_FILE.read_text(encoding="utf-8").replace("levels: [emergency, same_day, soon]",
                                                              "levels: [emergency, soon, same_day]", 1)
    path = tmp_path / "red_flags.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="levels must be"):
        load_flag_file(path)


def test_the_pattern_compiler_reports_unknown_groups_and_empty_alternatives(tmp_path):
    for bad, message in (('"@no_such_group pain"', "unknown vocab group @no_such_group"),
                         ('"calf||pain"', "empty alternative")):
        text = RED_FLAGS_FILE.read_text(encoding="utf-8").replace('"@local_sign"', bad, 1)
        path = tmp_path / f"flags_{len(message)}.yml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match=message):
            RedFlagEngine(load_flag_file(path), _load_nlp())


def test_earlier_turns_complete_a_composite_from_the_stored_detection_alone():
    """The action server's path: the parse data's detection plus earlier turns' ids, no text matched again."""
    from bot.triage.detect import combine_with_earlier

    now = detect_red_flags("I've got a tight chest and I'm short of breath").to_dict()
    assert now["level"] == "emergency" and "chest_symptoms_with_calf" not in now["flags"]
    level, flags = combine_with_earlier(now, {"calf_sign"})
    assert level == "emergency" and flags[0] == "chest_symptoms_with_calf"
    # the same result as matching the text again with the earlier turns
    assert detect_red_flags("I've got a tight chest and I'm short of breath", previous={"calf_sign"}).flags == flags
    assert combine_with_earlier(now, set()) == (now["level"], now["flags"])
    assert combine_with_earlier(now, {"not_a_flag_id"}) == (now["level"], now["flags"])
    assert combine_with_earlier({}, {"calf_sign"}) == (None, [])  # nothing now: earlier turns alone add nothing


def test_flag_sources_cite_clinic_documents_by_manifest_id_not_by_path():
    manifest = yaml.safe_load((RED_FLAGS_FILE.parents[2] / "knowledge" / "sources" / "manifest.yml").read_text())
    ids = {source["id"] for source in manifest["sources"]}
    files = {source["file"] for source in manifest["sources"]}
    cited = set()
    for flag in load_flag_file().flags:
        assert "/work/" not in flag.source and not any(name in flag.source for name in files), flag.id
        cited |= {i for i in ids if i in flag.source}
    assert {"keystone_running_achilles", "blog_achilles_after_running"} <= cited
