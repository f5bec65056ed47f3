"""The follow-up context for the answer actions: which topic a short follow-up means, and what the user said
about themselves (bot/nlp/followup.py decides; this module reads the tracker and the knowledge base)."""
from __future__ import annotations

from rasa_sdk import Tracker

from bot.nlp.followup import resolve_topic, severity_hint
from bot.topics import card_for_intent
from knowledge.answers import answer_for_topic, more_for_topic, topic_question


def _card_text(topic: str) -> str:
    answer, more = answer_for_topic(topic), more_for_topic(topic)
    return f"{answer.full_text} {more.full_text}"


def _follow_ups(topic: str) -> list[str]:
    return [t for t in (card_for_intent(payload.lstrip("/")) for _, payload in answer_for_topic(topic).follow_ups)
            if t]


def topic_in_context(tracker: Tracker, classified: str | None) -> str | None:
    """The topic to answer for the latest message, given the last topic answered in this conversation."""
    text = (tracker.latest_message or {}).get("text") or ""
    if text.startswith("/"):  # a button: the topic is what the button says
        return classified
    return resolve_topic(text, tracker.get_slot("last_topic"), classified, _card_text, _follow_ups, topic_question)


def severity_in_context(tracker: Tracker) -> str | None:
    """How bad or how long, as the user said it: this message's severity, then the severity and duration slots."""
    latest = next(tracker.get_latest_entity_values("severity"), None)
    return severity_hint(latest, tracker.get_slot("severity"), tracker.get_slot("duration"))
