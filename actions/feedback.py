"""'Was this helpful? 👍 👎': record the rating with the topic and sources of the answer it is about."""
from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.localised import language_of, say
from bot.feedback import record_feedback

logger = logging.getLogger(__name__)

# the thanks, by rating: keys of actions/texts/<language>.yml (English and translations, actions/localised.py)
THANKS = {True: "thanks_helpful", False: "thanks_unhelpful"}


def rated_answer(tracker: Tracker, topic: str | None) -> tuple[str | None, list[str]]:
    """The topic and sources of the answer being rated: the latest answer of `topic`, else the latest answer."""
    for event in reversed(tracker.events):
        if event.get("event") != "bot":
            continue
        grounding = ((event.get("metadata") or {}).get("grounding") or {})
        if not grounding or (topic and grounding.get("topic") != topic):
            continue
        sources = [s.get("id") for s in grounding.get("sources") or [] if isinstance(s, dict) and s.get("id")]
        return grounding.get("topic"), sources
    return topic, []


class ActionRecordFeedback(Action):
    def name(self) -> str:
        return "action_record_feedback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        latest = tracker.latest_message or {}
        helpful = (latest.get("intent") or {}).get("name") == "feedback_helpful"
        asked_topic = next((e.get("value") for e in latest.get("entities") or []
                            if e.get("entity") == "feedback_topic"), None)
        topic, sources = rated_answer(tracker, asked_topic)
        try:
            record_feedback(tracker.sender_id, helpful, topic, sources, tracker.get_latest_input_channel())
        except Exception:  # noqa: BLE001 - a lost rating must not break the conversation
            logger.exception("could not store feedback for %s", tracker.sender_id)
        dispatcher.utter_message(text=say(THANKS[helpful], language_of(tracker)), json_message=None)
        return []
