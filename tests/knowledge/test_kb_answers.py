"""The answers API on the real cards: coverage, length, key facts, variants, disagreements, wording rules."""

from __future__ import annotations

import itertools
import re

import pytest

from bot.topics import TOPIC_INTENTS
from knowledge.build import CARDS_DIR, SOURCES_DIR
from knowledge.cards import load_cards
from knowledge.errors import KnowledgeBaseMissing
from knowledge.sources import load_manifest

CLINIC_NAMES = ["Hong Kong Sports Clinic", "Athletic Edge", "Tempo", "Keystone"]
TYPES = [None, "insertional", "midportion"]
SEVERITIES = [None, "chronic", "mild"]
DISAGREEMENTS = {  # topic -> the sources that must be named on each side
    "keep_running": {"tempo_pt_runners", "blog_achilles_after_running"},
    "stretching": {"tempo_pt_runners", "blog_achilles_after_running"},
    "rehab_mistakes": {"tempo_pt_runners", "blog_achilles_after_running"},
    "heel_lifts": {"tempo_pt_runners", "blog_achilles_after_running"},
    "rest_ice": {"athletic_edge_rehab", "tempo_pt_runners", "blog_achilles_after_running"},
}


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture(scope="module")
def cards():  # noqa: ANN201
    docs = load_manifest(SOURCES_DIR)
    return {
        c.id: c
        for c in load_cards(
            CARDS_DIR, [d.id for d in docs], [n for d in docs for n in d.names], TOPIC_INTENTS
        )
    }


@pytest.fixture(scope="module")
def publishers() -> dict[str, str]:
    return {doc.id: doc.publisher for doc in load_manifest(SOURCES_DIR)}


def test_every_topic_has_a_card(kb, cards) -> None:  # noqa: ANN001
    assert set(kb.known_topics()) == set(TOPIC_INTENTS.values())
    for intent, card_id in TOPIC_INTENTS.items():
        assert (CARDS_DIR / f"{card_id}.yml").is_file()
        assert cards[card_id].intent == intent


@pytest.mark.parametrize("topic", sorted(TOPIC_INTENTS.values()))
def test_answers_are_short_plain_sourced_and_offer_follow_ups(kb, topic: str) -> None:  # noqa: ANN001
    for kind, severity in itertools.product(TYPES, SEVERITIES):
        answer = kb.answer_for_topic(topic, kind, severity)
        assert answer.topic == topic
        assert words(answer.text) <= 130, (topic, kind, severity)
        assert not re.search(r"[*_#<>\[\]`]", answer.text)
        assert answer.sources, topic
        assert answer.has_more
        assert 1 <= len(answer.follow_ups) <= 2
        for title, payload in answer.follow_ups:
            assert title and payload.startswith("/ask_") and payload[1:] in TOPIC_INTENTS
    more = kb.more_for_topic(topic)
    assert words(more.text) <= 150 and more.sources and not more.has_more
    assert more.text != kb.answer_for_topic(topic).text


def test_key_facts_are_in_the_answer_text(kb, cards) -> None:  # noqa: ANN001
    for card in cards.values():
        text = kb.answer_for_topic(card.id).text.lower()
        for fact in card.key_facts:
            assert fact in text, (card.id, fact)


def test_recovery_time_facts_and_severity_variants(kb) -> None:  # noqa: ANN001
    base = kb.answer_for_topic("recovery_time").text
    assert "4–6 weeks" in base and "3–6 months" in base
    for said in ("chronic", "long-term", "for months", "Chronic"):
        chronic = kb.answer_for_topic("recovery_time", severity=said).text
        assert "3–6 months" in chronic and "4–6 weeks" not in chronic, said
    for said in ("mild", "acute", "new", "just started a few days ago"):
        mild = kb.answer_for_topic("recovery_time", severity=said).text
        assert "4–6 weeks" in mild and "3–6 months" not in mild, said


@pytest.mark.parametrize("topic", ["stretching", "heel_lifts"])
def test_insertional_changes_the_advice(kb, topic: str) -> None:  # noqa: ANN001
    base = kb.answer_for_topic(topic).text
    for said in ("insertional", "insertion", "Insertional Achilles tendinopathy"):
        insertional = kb.answer_for_topic(topic, tendinopathy_type=said).text
        assert insertional != base
        assert "insertional" in insertional.lower() and "compress" in insertional.lower()
    assert kb.answer_for_topic(topic, tendinopathy_type="mid portion").text == base


def test_insertional_stretching_avoids_dropping_the_heel_and_heel_lifts_may_help(kb) -> None:  # noqa: ANN001
    stretching = kb.answer_for_topic("stretching", "insertional").text.lower()
    assert "avoid stretching the heel down off a step" in stretching
    lifts = kb.answer_for_topic("heel_lifts", "insertional").text.lower()
    assert "may help early" in lifts


@pytest.mark.parametrize("topic", sorted(DISAGREEMENTS))
def test_disagreements_name_both_sides(kb, topic: str, publishers: dict[str, str]) -> None:  # noqa: ANN001
    answer = kb.answer_for_topic(topic)
    assert answer.disagreement and "differ" in answer.disagreement
    for source_id in DISAGREEMENTS[topic]:
        assert publishers[source_id] in answer.disagreement, (topic, source_id)
        assert source_id in {s.id for s in answer.sources}


def test_sources_are_only_those_cited_by_the_text_shown(kb) -> None:  # noqa: ANN001
    assert [s.id for s in kb.answer_for_topic("medication").sources] == [
        "blog_achilles_after_running",
        "tempo_pt_runners",
    ]
    insertional = {s.id for s in kb.answer_for_topic("exercises", "insertional").sources}
    assert insertional == {"tempo_pt_runners", "hksc_return_to_running", "athletic_edge_rehab"}
    assert kb.answer_for_topic("rupture").sources[0].id == "keystone_running_achilles"


def test_no_clinic_names_in_card_text(kb, cards) -> None:  # noqa: ANN001
    for card in cards.values():
        texts = [
            card.answer,
            card.detail,
            *(v.text for v in card.variants),
            *(v.detail or "" for v in card.variants),
        ]
        texts += [kb.answer_for_topic(card.id, k, s).text for k, s in itertools.product(TYPES, SEVERITIES)]
        texts.append(kb.more_for_topic(card.id, "insertional").text)
        for text, name in itertools.product(texts, CLINIC_NAMES):
            assert not re.search(rf"\b{re.escape(name)}\b", text), (card.id, name)


def test_rupture_tells_the_reader_to_get_urgent_care_today(kb) -> None:  # noqa: ANN001
    text = kb.answer_for_topic("rupture").text.lower()
    assert "pop" in text and "tiptoe" in text
    assert "if this is happening to you now" in text and "urgent" in text and "today" in text


def test_medication_says_only_what_the_source_says(kb) -> None:  # noqa: ANN001
    text = kb.answer_for_topic("medication").text.lower()
    assert "ibuprofen" in text
    assert not re.search(r"\b\d+\s*mg\b|pharmacist|doctor", text)


def test_unknown_topic_is_a_key_error(kb) -> None:  # noqa: ANN001
    with pytest.raises(KeyError, match="unknown topic 'knee_pain'"):
        kb.answer_for_topic("knee_pain")
    with pytest.raises(KeyError):
        kb.more_for_topic("knee_pain")


def test_missing_database_says_run_make_kb(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    from knowledge import answers

    monkeypatch.setenv("CLINIC_KB_DATABASE_URL", f"sqlite:///{tmp_path / 'nothing.db'}")
    answers.reset_cache()
    try:
        with pytest.raises(KnowledgeBaseMissing, match="run `make kb`"):
            answers.answer_for_topic("causes")
        assert not (tmp_path / "nothing.db").exists()
    finally:
        answers.reset_cache()
