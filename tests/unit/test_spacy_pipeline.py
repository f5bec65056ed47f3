"""The project's spaCy pipeline: built from code, finds the domain's entities, lemmatises by lookup."""
from __future__ import annotations

import json

import pytest
import spacy

from bot.nlp.build_pipeline import build_pipeline, load_patterns, save_pipeline


@pytest.fixture(scope="module")
def nlp():
    return build_pipeline()


def entities(nlp, text):
    return {(ent.label_, ent.ent_id_) for ent in nlp(text).ents}


@pytest.mark.parametrize("text, expected", [
    ("my achilles has been sore for 3 weeks", {("body_part", "achilles"), ("duration", "duration")}),
    ("achilies pain at the heel", {("body_part", "achilles"), ("body_part", "heel")}),
    ("tight calves after hill reps", {("body_part", "calf"), ("symptom", "stiffness")}),
    ("is it insertional or mid-portion?", {("tendinopathy_type", "insertional"),
                                           ("tendinopathy_type", "midportion")}),
    ("it's mid portion tendinopathy", {("tendinopathy_type", "midportion")}),
    ("morning stiffness and some swelling", {("symptom", "stiffness"), ("symptom", "swelling")}),
    ("I heard a pop then a snap", {("symptom", "pop"), ("symptom", "snap")}),
    ("do heel lifts or orthotics help", {("treatment", "heel lift"), ("treatment", "orthotic")}),
    ("shockwave vs dry needling vs kinesio taping", {("treatment", "shockwave"), ("treatment", "dry needling"),
                                                     ("treatment", "taping")}),
    ("isometrics then eccentric heel drops", {("exercise", "isometric"), ("exercise", "eccentric")}),
    ("heavy slow resistance and pogos", {("exercise", "heavy slow resistance"), ("exercise", "pogo")}),
    ("it's been 2-3 months", {("duration", "duration")}),
    ("and if it's chronic?", {("severity", "chronic")}),
    ("Do Heel Lifts help?", {("treatment", "heel lift")}),
    ("DO HEEL LIFTS HELP", {("treatment", "heel lift")}),
    ("Calves are TIGHT", {("body_part", "calf")}),
])
def test_domain_entities_are_found(nlp, text, expected):
    assert expected <= entities(nlp, text)


def test_no_entities_in_unrelated_text(nlp):
    assert not list(nlp("what is the weather in London tomorrow").ents)


@pytest.mark.parametrize("word, lemma", [
    ("running", "run"), ("ran", "run"), ("calves", "calf"), ("tendons", "tendon"),
    ("swelled", "swell"), ("heard", "hear"), ("lifts", "lift"), ("hurts", "hurt"),
])
def test_lookup_lemmatizer(nlp, word, lemma):
    assert nlp(word)[0].lemma_ == lemma


def test_saved_pipeline_loads_by_path_with_meta(nlp, tmp_path):
    path = save_pipeline(nlp, tmp_path / "pipeline")
    meta = json.loads((path / "meta.json").read_text())
    assert meta["name"] == "achilles_clinic"
    assert meta["spacy_version"].startswith(">=3.4")
    loaded = spacy.load(path)
    assert loaded.pipe_names == ["lemmatizer", "entity_ruler"]
    assert ("treatment", "heel lift") in {(e.label_, e.ent_id_) for e in loaded("heel lifts?").ents}


def test_bad_pattern_line_is_named(tmp_path):
    bad = tmp_path / "patterns.jsonl"
    bad.write_text('{"label": "symptom", "pattern": "pop"}\n{"label": oops}\n')
    with pytest.raises(ValueError, match=r"patterns.jsonl:2"):
        load_patterns(bad)
