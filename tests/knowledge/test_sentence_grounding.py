"""Sentence grounding: each card sentence says only what the quotes it links to say (file, line, sentence)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from knowledge.build import SOURCES_DIR, build
from knowledge.errors import CardError, GroundingError
from knowledge.sentence_calibrate import choose_threshold, collect_pairs
from knowledge.sentences import default_grounder, load_threshold, quantities, split_sentences
from tests.knowledge.test_kb_build import line_of


def rebuild(cards: Path, tmp_path: Path, **kwargs) -> None:  # noqa: ANN003
    build(SOURCES_DIR, cards, f"sqlite:///{tmp_path / 'kb.db'}", progress=False, **kwargs)


def edit(card: Path, old: str, new: str) -> None:
    text = card.read_text(encoding="utf-8")
    assert old in text, old
    card.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_number_not_in_the_linked_quotes_fails_with_file_line_and_sentence(cards_copy: Path, tmp_path: Path) -> None:
    card = cards_copy / "recovery_time.yml"
    edit(card, "by about one mile every 1–2 weeks", "by about one mile every 2–3 weeks")
    with pytest.raises(GroundingError) as error:
        rebuild(cards_copy, tmp_path)
    message = str(error.value)
    assert f"recovery_time.yml:{line_of(card, 'every 2–3 weeks')}: the detail sentence" in message
    assert "'When you return, increase your running mileage by about one mile every 2–3 weeks as tolerated.'" \
        in message and "states 3 week" in message


def test_a_dose_said_in_words_is_checked_too(cards_copy: Path, tmp_path: Path) -> None:
    card = cards_copy / "exercises.yml"
    edit(card, "3 sets of 15 reps, once or twice daily", "3 sets of 15 reps, three times daily")
    with pytest.raises(GroundingError, match=r"exercises\.yml:\d+: the answer sentence .* states 3 time"):
        rebuild(cards_copy, tmp_path)


def test_an_exercise_not_in_the_linked_quotes_fails(cards_copy: Path, tmp_path: Path) -> None:
    card = cards_copy / "exercises.yml"
    edit(card, "For eccentric calf raises, progressively add weight in a backpack.",
         "For eccentric calf raises, add box jumps.")
    with pytest.raises(GroundingError) as error:
        rebuild(cards_copy, tmp_path)
    assert f"exercises.yml:{line_of(card, 'add box jumps')}:" in str(error.value)
    assert "names jump, which no linked quote names" in str(error.value)


def test_a_device_not_in_the_linked_quotes_fails(cards_copy: Path, tmp_path: Path) -> None:
    card = cards_copy / "heel_lifts.yml"
    edit(card, "The goal is always to rebuild the tendon's strength and resilience through proper loading.",
         "The goal is always to rebuild the tendon's strength and resilience through proper loading and taping.")
    with pytest.raises(GroundingError, match=r"heel_lifts\.yml:\d+: .* names taping, which no linked quote"):
        rebuild(cards_copy, tmp_path)


def test_low_coverage_fails_naming_the_words_not_found(cards_copy: Path, tmp_path: Path) -> None:
    card = cards_copy / "diet.yml"
    edit(card, '"In the sources, the cornerstone of treatment is progressive loading: strengthening the tendon '
               'over time."',
         '"Food supports recovery, and good sleep and hydration speed up tendon healing."')
    with pytest.raises(GroundingError) as error:
        rebuild(cards_copy, tmp_path)
    message = str(error.value)
    assert f"diet.yml:{line_of(card, 'good sleep and hydration')}:" in message
    assert "of its content words in its quotes" in message and "sleep" in message


def test_a_negation_dropped_is_not_covered() -> None:
    grounder = default_grounder()
    quote = ["Heel lifts can temporarily reduce strain on the tendon, but they’re not a long-term fix."]
    assert grounder.check("Heel lifts are not a long-term fix.", quote).coverage == 1.0
    flipped = grounder.check("Heel lifts are a long-term fix, never a short one.", quote)
    assert "short" in flipped.uncovered


def test_a_sentence_must_link_a_claim_the_card_has(cards_copy: Path, tmp_path: Path) -> None:
    card = cards_copy / "diet.yml"
    edit(card, "    claims: [loading]\n", "    claims: [protein]\n")
    with pytest.raises(CardError, match=r"diet\.yml:\d+: sentence .* links unknown claim 'protein'"):
        rebuild(cards_copy, tmp_path)


def test_two_sentences_in_one_item_fail(cards_copy: Path, tmp_path: Path) -> None:
    card = cards_copy / "diet.yml"
    edit(card, "strengthening the tendon over time.", "strengthening the tendon over time. Rest helps too.")
    with pytest.raises(CardError, match=r"diet\.yml:\d+: answer: one sentence per item"):
        rebuild(cards_copy, tmp_path)


def test_clinic_advice_cannot_be_mixed_into_a_document_sentence(cards_copy: Path, tmp_path: Path) -> None:
    card = cards_copy / "keep_running.yml"
    edit(card, "    claims: [load_management]\n", "    claims: [load_management, ease_off]\n")
    with pytest.raises(CardError, match=r"keep_running\.yml:\d+: sentence .* mixes the clinic's advice"):
        rebuild(cards_copy, tmp_path)


def test_a_policy_claim_must_name_an_entry_of_the_clinic_file(cards_copy: Path, tmp_path: Path) -> None:
    card = cards_copy / "keep_running.yml"
    edit(card, "    policy: ease_off\n", "    policy: run_through_it\n")
    with pytest.raises(CardError, match=r"keep_running\.yml:\d+: a clinic_policy claim needs only `policy:`"):
        rebuild(cards_copy, tmp_path)


def test_a_policy_sentence_may_not_say_more_than_the_clinic_approved(cards_copy: Path, tmp_path: Path) -> None:
    card = cards_copy / "keep_running.yml"
    edit(card, '"Ease off any running or exercise that makes the pain worse."',
         '"Ease off any running or exercise that makes the pain worse, and take ibuprofen."')
    with pytest.raises(GroundingError, match=r"keep_running\.yml:\d+: .* is not the approved wording"):
        rebuild(cards_copy, tmp_path)


def test_every_card_records_its_review_status(cards_copy: Path, tmp_path: Path) -> None:
    card = cards_copy / "diet.yml"
    edit(card, "reviewed_on: null\n", "")
    with pytest.raises(CardError, match=r"diet\.yml:1: card has no `reviewed_on` \(write `null"):
        rebuild(cards_copy, tmp_path)
    edit(card, "reviewed_by: null  # pending clinical review\n",
         "reviewed_by: A. Physio\nreviewed_on: 2026-11-30\n")
    rebuild(cards_copy, tmp_path)
    edit(card, "reviewed_on: 2026-11-30\n", "reviewed_on: last week\n")
    with pytest.raises(CardError, match=r"diet\.yml:\d+: reviewed_on must be a date"):
        rebuild(cards_copy, tmp_path)


def test_a_policy_entry_names_who_approved_it_and_when(tmp_path: Path, cards_copy: Path) -> None:
    from knowledge.policy import POLICY_FILE

    policy = tmp_path / "clinic_policy.yml"
    data = POLICY_FILE.read_text(encoding="utf-8")
    policy.write_text(data.replace("    approved_on: null\n", "", 1), encoding="utf-8")
    with pytest.raises(CardError, match=r"clinic_policy\.yml:\d+: policy has no `approved_on`"):
        rebuild(cards_copy, tmp_path, policy_file=policy)


def test_quantities_units_ranges_and_words() -> None:
    assert quantities("3 sets of 15 reps, once or twice daily") == {"3 set", "15 rep", "1 time", "2 time"}
    assert quantities("1–2x daily") == {"1 time", "2 time"}
    assert quantities("45-second holds, 4–5 sets") == {"45 second", "4 set", "5 set"}
    assert quantities("one mile every 1–2 weeks") == {"1 mile", "1 week", "2 week"}
    assert quantities("one source says 20+ raises") == {"20"}
    assert split_sentences("First one. Second one? Third") == ["First one.", "Second one?", "Third"]


def test_the_threshold_file_is_the_calibrated_one() -> None:
    """Rerun `python -m knowledge.sentence_calibrate` after changing cards or the calibration set."""
    pairs = collect_pairs()
    threshold, _ = choose_threshold(pairs)
    assert load_threshold() == pytest.approx(threshold, abs=1e-3)
    audit = [p for p in pairs if p.label == "audit"]
    rejected = [p for p in audit if p.mechanical or p.coverage < threshold]
    assert len(rejected) >= 0.8 * len(audit)  # the audit's unsupported sentences are mostly caught
    assert all(p.coverage >= threshold for p in pairs if p.supported)
    mismatched = [p for p in pairs if p.label == "mismatched"]
    assert sum(p.coverage < threshold or p.mechanical for p in mismatched) >= 0.95 * len(mismatched)


def test_the_calibration_set_is_the_audits_own_wording() -> None:
    from knowledge.sentence_calibrate import CALIBRATION_FILE

    data = yaml.safe_load(CALIBRATION_FILE.read_text(encoding="utf-8"))
    assert len(data["unsupported"]) >= 15 and all(item["quotes"] and item["why"] for item in data["unsupported"])
