"""Every topic of the knowledge base, asked in new words over REST, answers with its key facts and sources."""
from __future__ import annotations

import pytest
import yaml

from bot.paths import PROJECT_ROOT
from tests.rest import new_sender, reply_text, say

pytestmark = pytest.mark.e2e

QUESTIONS = yaml.safe_load((PROJECT_ROOT / "tests" / "e2e" / "topic_questions.yml").read_text())
CASES = [(topic, question) for topic, questions in QUESTIONS.items() for question in questions]


def card(topic: str) -> dict:
    return yaml.safe_load((PROJECT_ROOT / "knowledge" / "cards" / f"{topic}.yml").read_text())


def test_every_card_is_asked():
    cards = {path.stem for path in (PROJECT_ROOT / "knowledge" / "cards").glob("*.yml")}
    assert cards == set(QUESTIONS)


@pytest.mark.parametrize("topic, question", CASES, ids=[f"{t}-{i % 2}" for i, (t, _) in enumerate(CASES)])
def test_topic_question_answers_with_key_facts_and_sources(running_bot, topic, question):
    answer = reply_text(say(running_bot.rasa_url, new_sender("topic"), question))
    lowered = answer.lower()
    missing = [fact for fact in card(topic)["key_facts"] if fact.lower() not in lowered]
    assert not missing, f"{question!r} -> missing {missing} in:\n{answer}"
    assert "Sources:" in answer
    assert "call 999" not in lowered, "an informational question must not be treated as an emergency"
    if card(topic).get("disagreement"):
        assert "sources differ" in lowered


def test_unknown_question_gets_an_honest_answer_and_the_team(running_bot):
    answer = reply_text(say(running_bot.rasa_url, new_sender(), "can you recommend a good recipe for banana bread"))
    assert "Sources:" not in answer
    assert "clinic" in answer.lower() and ("don't cover" in answer or "outside" in answer)


def test_insertional_follow_up_changes_the_heel_lift_answer(running_bot):
    sender = new_sender("followup")
    first = reply_text(say(running_bot.rasa_url, sender, "do heel lifts help?"))
    second = reply_text(say(running_bot.rasa_url, sender, "what about insertional?"))
    assert second != first
    assert "insertional" in second.lower()


def test_chronic_follow_up_after_recovery_time(running_bot):
    sender = new_sender("followup")
    say(running_bot.rasa_url, sender, "how long will it take to recover")
    answer = reply_text(say(running_bot.rasa_url, sender, "and if it's chronic?"))
    assert "3–6 months" in answer


def test_tendinopathy_type_mentioned_earlier_shapes_later_stretching_advice(running_bot):
    sender = new_sender("slot")
    say(running_bot.rasa_url, sender, "my physio says i have insertional achilles tendinopathy")
    answer = reply_text(say(running_bot.rasa_url, sender, "should i stretch my calves?")).lower()
    assert "insertional" in answer
