"""Long-tail retrieval: tokenising, relevant passages for in-scope questions, None below the threshold."""

from __future__ import annotations

import pytest
import yaml

from knowledge.calibrate import CALIBRATION_FILE, choose_threshold, index_from_sources, score_questions
from knowledge.retrieve import THRESHOLD_FILE, load_threshold, tokenize


def test_tokenize_lowercases_stems_and_drops_stop_words() -> None:
    assert tokenize("Is running with Achilles tendonitis OK?") == ["run", "achilles", "tendinitis"]
    assert tokenize("stretches, stretching") == ["stretch", "stretch"]
    assert tokenize("What shoes help injuries?") == ["shoe", "injury"]


@pytest.mark.parametrize(
    ("question", "expected_source", "expected_words"),
    [
        ("Does dry needling help the Achilles?", "hksc_return_to_running", "needles"),
        ("Can running on uneven surfaces cause problems?", "blog_achilles_after_running", "uneven terrain"),
        ("How do I do pogo hops?", "athletic_edge_rehab", "pogos"),
        ("Do I need an MRI or ultrasound?", "tempo_pt_runners", "rarely needed"),
    ],
)
def test_in_scope_question_gets_a_relevant_passage(
    kb,
    question: str,
    expected_source: str,  # noqa: ANN001
    expected_words: str,
) -> None:
    answer = kb.answer_for_question(question)
    assert answer is not None
    assert answer.topic == "retrieved"
    assert answer.text.startswith("From ")
    assert expected_words in answer.text
    assert answer.sources[0].id == expected_source
    assert answer.disagreement is None and not answer.has_more
    assert len(answer.text.split()) <= 125


@pytest.mark.parametrize(
    "question",
    [
        "what's a good banana bread recipe",
        "can I get a refund",
        "who won the football",
        "",
        "?!",
    ],
)
def test_out_of_scope_question_gets_none(kb, question: str) -> None:  # noqa: ANN001
    assert kb.answer_for_question(question) is None


def test_retrieved_answer_offers_the_card_that_quotes_the_passage(kb) -> None:  # noqa: ANN001
    answer = kb.answer_for_question("Does dry needling help the Achilles?")
    assert ("What other treatments are there?", "/ask_treatments") in answer.follow_ups


def test_threshold_file_matches_the_calibration() -> None:
    """If this fails, the passages or the calibration set changed: run `python -m knowledge.calibrate`."""
    scored = score_questions(index_from_sources(), CALIBRATION_FILE)
    threshold, accuracy = choose_threshold(scored)
    stored = yaml.safe_load(THRESHOLD_FILE.read_text(encoding="utf-8"))
    assert load_threshold() == pytest.approx(threshold)
    assert stored["accuracy"] == pytest.approx(round(accuracy, 3))
    assert accuracy >= 0.9
    assert len([s for s in scored if s.in_scope]) >= 25 and len([s for s in scored if not s.in_scope]) >= 25
