"""The answers API on the real cards: coverage, length, key facts, variants, disagreements, wording rules."""

from __future__ import annotations

import itertools
import re

import pytest

from bot.topics import TOPIC_INTENTS
from knowledge.build import CARDS_DIR, SOURCES_DIR
from knowledge.cards import compose, load_cards, text_of
from knowledge.errors import KnowledgeBaseMissing
from knowledge.sources import load_manifest

CLINIC_NAMES = ["Hong Kong Sports Clinic", "Athletic Edge", "Tempo", "Keystone"]
TYPES = [None, "insertional", "midportion"]
SEVERITIES = [None, "chronic", "mild"]
DISAGREEMENTS = {  # topic -> the sources that must be named on each side (the four the documents contain)
    "keep_running": {"tempo_pt_runners", "blog_achilles_after_running"},
    "stretching": {"tempo_pt_runners", "blog_achilles_after_running", "hksc_return_to_running"},
    "heel_lifts": {"tempo_pt_runners", "blog_achilles_after_running"},
    "rest_ice": {"athletic_edge_rehab", "tempo_pt_runners", "blog_achilles_after_running"},
}
ACTIVITY_CARDS = ["keep_running", "exercises", "return_to_running", "rest_ice", "stretching", "symptoms"]


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture(scope="module")
def cards():  # noqa: ANN201
    docs = load_manifest(SOURCES_DIR)
    return {
        c.id: c
        for c in load_cards(
            CARDS_DIR, [d.id for d in docs], [n for d in docs for n in d.names]
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
        text = kb.answer_for_topic(card.id).full_text.lower()
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


def test_insertional_advice_says_only_what_the_sources_say(kb) -> None:  # noqa: ANN001
    """No document tells insertional runners to avoid the step or stretching: the cards must not either."""
    for topic in ("stretching", "exercises", "midportion_vs_insertional", "heel_lifts"):
        for answer in (kb.answer_for_topic(topic, "insertional"), kb.more_for_topic(topic, "insertional")):
            text = answer.full_text.lower()
            assert not re.search(r"(below|off|down) (a|the) step|step level", text), (topic, text)
            assert "avoid stretching" not in text, topic
    stretching = kb.answer_for_topic("stretching", "insertional").full_text.lower()
    assert "compressive forces" in stretching and "too much stretching" in stretching
    assert "may help early" in kb.answer_for_topic("heel_lifts", "insertional").text.lower()


@pytest.mark.parametrize("topic", ["exercises", "stretching", "heel_lifts"])
def test_an_insertional_answer_never_contains_text_its_variant_replaced(kb, cards, topic: str) -> None:  # noqa: ANN001
    card = cards[topic]
    variant = card.variant("insertional")
    assert variant is not None and variant.mode == "replace"
    kept = {s.text for s in variant.sentences}
    replaced = [s.text for s in card.answer if s.text not in kept]
    assert replaced, f"{topic}: the insertional variant replaces nothing"
    for severity in SEVERITIES:
        text = kb.answer_for_topic(topic, "insertional", severity).full_text
        for sentence in replaced:
            assert sentence not in text, (topic, sentence)
    if variant.detail:
        kept_detail = {s.text for s in variant.detail}
        more = kb.more_for_topic(topic, "insertional").full_text
        for sentence in (s.text for s in card.detail if s.text not in kept_detail):
            assert sentence not in more, (topic, sentence)


def test_insertional_exercises_never_prescribe_lowering_the_heel_below_a_step(kb) -> None:  # noqa: ANN001
    base = kb.answer_for_topic("exercises").full_text
    assert "below a step" in base  # the general plan has it (Tempo's eccentric raises) ...
    for said in ("insertional", "insertion", "at the heel bone"):
        for answer in (kb.answer_for_topic("exercises", said), kb.more_for_topic("exercises", said)):
            assert "below a step" not in answer.full_text and "eccentric" not in answer.full_text.lower()


@pytest.mark.parametrize("topic", sorted(DISAGREEMENTS))
def test_disagreements_name_both_sides(kb, topic: str, publishers: dict[str, str]) -> None:  # noqa: ANN001
    answer = kb.answer_for_topic(topic)
    assert answer.disagreement and "differ" in answer.disagreement
    for source_id in DISAGREEMENTS[topic]:
        assert publishers[source_id] in answer.disagreement, (topic, source_id)
        assert source_id in {s.id for s in answer.sources}


def expected_sources(card, sentences) -> list[str]:  # noqa: ANN001
    """The documents behind these card sentences (and the card's disagreement note), from the card file."""
    shown = list(sentences) + list(card.disagreement.note if card.disagreement else ())
    return list(dict.fromkeys(q.source for s in shown for c in s.claims for q in card.claim(c).quotes))


@pytest.mark.parametrize("topic", sorted(TOPIC_INTENTS.values()))
def test_a_rendered_answer_cites_exactly_the_sources_of_the_sentences_shown(kb, cards, topic: str) -> None:  # noqa: ANN001
    card = cards[topic]
    variants = {v.name: (v.mode, v.sentences) for v in card.variants}
    for kind, severity in itertools.product(TYPES, SEVERITIES):
        shown, _ = compose(card.answer, variants, kind, severity)
        answer = kb.answer_for_topic(topic, kind, severity)
        assert [s.id for s in answer.sources] == expected_sources(card, shown), (topic, kind, severity)
        assert answer.text == " ".join(s.text for s in shown if not s.policy)
    for kind in TYPES:
        variant = card.variant(kind)
        detail = variant.detail if variant and variant.detail else card.detail
        assert [s.id for s in kb.more_for_topic(topic, kind).sources] == expected_sources(card, detail)
    assert [s.id for s in kb.answer_for_topic("medication").sources] == [
        "blog_achilles_after_running",
        "tempo_pt_runners",
    ]
    assert kb.answer_for_topic("rupture").sources[0].id == "keystone_running_achilles"


def test_clinic_policy_is_the_clinics_advice_never_a_documents(kb, cards) -> None:  # noqa: ANN001
    from knowledge.policy import load_policies

    policies = load_policies()
    seen = 0
    for card in cards.values():
        for sentence in (s for section in card.sections().values() for s in section if s.policy):
            seen += 1
            assert all(card.claim(c).policy in policies and not card.claim(c).quotes for c in sentence.claims)
    assert seen >= len(ACTIVITY_CARDS)
    rupture = kb.answer_for_topic("rupture")
    assert rupture.clinic_advice and "urgent medical care today" in " ".join(rupture.clinic_advice)
    assert "urgent" not in rupture.text and "today" not in rupture.text  # never among the documents' words
    assert all(not s.sources for s in rupture.sentences if s.clinic_policy)
    assert "The clinic's advice: If this is happening to you now" in rupture.full_text


@pytest.mark.parametrize("topic", ACTIVITY_CARDS)
def test_activity_advice_carries_the_red_flag_line_as_the_clinics_advice(kb, topic: str) -> None:  # noqa: ANN001
    for kind in TYPES:
        advice = " ".join(kb.answer_for_topic(topic, kind).clinic_advice).lower()
        for sign in ("pop", "snap", "tiptoe", "bear weight", "swelling", "today"):
            assert sign in advice, (topic, kind, sign)


def test_no_clinic_names_in_card_text(kb, cards) -> None:  # noqa: ANN001
    for card in cards.values():
        texts = [text_of(sentences) for sentences in card.sections().values()]
        texts += [kb.answer_for_topic(card.id, k, s).full_text for k, s in itertools.product(TYPES, SEVERITIES)]
        texts.append(kb.more_for_topic(card.id, "insertional").full_text)
        for text, name in itertools.product(texts, CLINIC_NAMES):
            assert not re.search(rf"\b{re.escape(name)}\b", text), (card.id, name)


def test_rupture_tells_the_reader_to_get_urgent_care_today(kb) -> None:  # noqa: ANN001
    text = kb.answer_for_topic("rupture").full_text.lower()
    assert "pop" in text and "tiptoe" in text
    assert "if this is happening to you now" in text and "urgent" in text and "today" in text
    assert "keep weight off the leg" in text


def test_medication_says_only_what_the_source_says(kb) -> None:  # noqa: ANN001
    text = kb.answer_for_topic("medication").full_text.lower()
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
