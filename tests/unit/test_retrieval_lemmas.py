"""Long-tail retrieval folds words with the project spaCy pipeline's lemmatizer (not a hand-written stripper)."""
from __future__ import annotations

import pytest

from knowledge.retrieve import stem, tokenize


@pytest.mark.parametrize("forms, lemma", [
    (["ruptured", "rupture", "ruptures"], "rupture"),
    (["calves", "calf"], "calf"),
    (["icing", "iced", "ice"], "ice"),
    (["running", "runs", "ran"], "run"),
    (["stretches", "stretching", "stretched"], "stretch"),
])
def test_word_forms_fold_to_one_lemma(forms, lemma):
    assert {stem(form) for form in forms} == {lemma}


def test_question_and_passage_words_meet():
    assert set(tokenize("I think I ruptured it icing my calves")) >= {"rupture", "ice", "calf"}
