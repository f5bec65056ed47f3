"""The one synonym table (bot/nlp/vocabulary.yml) feeds the spaCy EntityRuler, Rasa's entity synonyms and the
card-variant choice; no other file keeps its own synonym list."""
from __future__ import annotations

import pytest
import spacy
import yaml

from bot.nlp.vocabulary import VocabularyError, canonical, load, rasa_synonyms
from bot.paths import DATA_DIR, SPACY_PIPELINE_DIR
from bot.topic_wiring import synonyms_data
from knowledge.answers import normalise_severity, normalise_type

VALUES = [(value.entity, value.name, phrase) for values in load().values() for value in values
          for phrase in value.phrases]


@pytest.fixture(scope="module")
def nlp():
    return spacy.load(SPACY_PIPELINE_DIR)


@pytest.mark.parametrize(("entity", "name", "phrase"), VALUES, ids=[f"{e}:{p}" for e, _, p in VALUES])
def test_every_phrase_is_extracted_by_the_pipeline_and_means_its_value(nlp, entity, name, phrase):
    doc = nlp(f"my achilles, {phrase.title()} I think, since Monday")
    assert (phrase.lower(), entity) in {(ent.text.lower(), ent.label_) for ent in doc.ents}
    assert canonical(entity, phrase) == name


def test_rasa_synonyms_map_every_other_phrase_to_its_value():
    pairs = {(entry["synonym"], line[2:]) for entry in rasa_synonyms() for line in entry["examples"].splitlines()}
    expected = {(name, phrase) for _, name, phrase in VALUES if phrase != name}
    assert pairs == expected
    assert yaml.safe_load(synonyms_data())["nlu"] == rasa_synonyms()


def test_no_training_file_keeps_its_own_synonyms():
    for path in DATA_DIR.rglob("*.yml"):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            assert "synonym" not in block, f"{path}: synonyms belong in bot/nlp/vocabulary.yml"


@pytest.mark.parametrize(("text", "kind", "severity"), [
    ("Insertion", "insertional", None),
    ("right where it attaches to the heel", "insertional", None),
    ("non-insertional", "midportion", None),  # an exact phrase wins over the 'insert' cue
    ("mid portion", "midportion", None),
    ("for 3 months", None, "chronic"),
    ("Long-standing", None, "chronic"),
    ("a few days", None, "mild"),
    ("sore", None, None),
    ("", None, None),
    (None, None, None),
])
def test_slot_values_choose_the_variant_from_the_table(text, kind, severity):
    assert normalise_type(text) == kind
    assert normalise_severity(text) == severity


def test_a_phrase_with_two_meanings_is_refused_with_the_file(tmp_path):
    path = tmp_path / "vocabulary.yml"
    path.write_text("severity:\n  chronic:\n    phrases: [lingering]\n  mild:\n    phrases: [Lingering]\n",
                    encoding="utf-8")
    with pytest.raises(VocabularyError, match=r"vocabulary\.yml.*'lingering' means both 'chronic' and 'mild'"):
        load(path)


def test_a_value_without_phrases_is_refused(tmp_path):
    path = tmp_path / "vocabulary.yml"
    path.write_text("severity:\n  chronic:\n    cues: [month]\n", encoding="utf-8")
    with pytest.raises(VocabularyError, match=r"severity\.chronic: needs `phrases`"):
        load(path)
