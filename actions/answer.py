"""Answer topic questions from the knowledge base: the card for the intent, 'tell me more', and follow-ups."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.followup import severity_in_context, topic_in_context
from actions.localised import language_of, say
from actions.render import send_answer
from actions.translated_answer import card_question, localise
from bot.nlp.followup import asks_what_to_do
from bot.topics import card_for_intent, intent_for_card
from knowledge.answers import answer_for_topic, more_for_topic, topic_question

# A message that asks two things ("do heel lifts help and how long will it take?") gets the first answer and
# a button for the second topic when the classifier ranks it this high.
SECOND_TOPIC_MIN_CONFIDENCE = 0.2
TYPES_CARD = "midportion_vs_insertional"


def escalation_reminder(tracker: Tracker) -> str | None:
    """While an escalation is open, every answer starts by repeating its advice in one line."""
    if not tracker.get_slot("escalation_open"):
        return None
    from bot.triage.advice import reminder_text

    return reminder_text(tracker.get_slot("escalation_level") or "same_day", language_of(tracker))


def second_topic(tracker: Tracker, first: str) -> str | None:
    """Another topic the same message seems to ask about, from the classifier's ranking."""
    for ranked in (tracker.latest_message or {}).get("intent_ranking", [])[:4]:
        topic = card_for_intent(ranked.get("name"))
        if topic and topic != first and (ranked.get("confidence") or 0) >= SECOND_TOPIC_MIN_CONFIDENCE:
            return topic
    return None


def latest_entity(tracker: Tracker, entity: str) -> str | None:
    """The entity's value in the latest message, if the user just mentioned it."""
    return next(tracker.get_latest_entity_values(entity), None)


class ActionAnswerTopic(Action):
    """Reply to a topic intent with its answer card, adapted to the tendinopathy type and severity known."""

    def name(self) -> str:
        return "action_answer_topic"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        topic = topic_in_context(tracker, card_for_intent(tracker.get_intent_of_latest_message()))
        if topic is None:
            dispatcher.utter_message(response="utter_out_of_scope")
            return []
        answer = answer_for_topic(
            topic,
            tendinopathy_type=tracker.get_slot("tendinopathy_type"),
            severity=severity_in_context(tracker),
        )
        also = second_topic(tracker, topic)
        language = language_of(tracker)
        extra = [(say("also_button", language, question=card_question(also, topic_question(also), language)),
                  f"/{intent_for_card(also)}")] if also else []
        answer, note, more = localise(answer, tracker.get_slot("language"))  # the visitor's language, if translated
        preface = "\n".join(p for p in (escalation_reminder(tracker), note) if p) or None
        send_answer(dispatcher, answer, preface=preface, extra_buttons=extra + more)
        return [SlotSet("last_topic", topic)]


class ActionTellMore(Action):
    """'Tell me more': the detail of the last topic answered."""

    def name(self) -> str:
        return "action_tell_more"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        topic = tracker.get_slot("last_topic")
        if not topic:
            dispatcher.utter_message(text=say("tell_more_which_topic", language_of(tracker)))
            return []
        text = (tracker.latest_message or {}).get("text") or ""
        if asks_what_to_do(text):  # "what else helps with the pain?" reads like "more", but asks for another card
            other = topic_in_context(tracker, topic)
            if other and other != topic:
                answer = answer_for_topic(other, tendinopathy_type=tracker.get_slot("tendinopathy_type"),
                                          severity=severity_in_context(tracker))
                send_answer(dispatcher, answer, preface=escalation_reminder(tracker))
                return [SlotSet("last_topic", other)]
        answer = more_for_topic(topic, tendinopathy_type=tracker.get_slot("tendinopathy_type"))
        send_answer(dispatcher, answer, preface=escalation_reminder(tracker), offer_more=False)
        return []


class ActionAnswerFollowup(Action):
    """A context follow-up ('what about insertional?', 'and if it's chronic?') re-answers the last topic."""

    def name(self) -> str:
        return "action_answer_followup"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        types_named = {value for value in tracker.get_latest_entity_values("tendinopathy_type")}
        topic = tracker.get_slot("last_topic")
        if len(types_named) > 1 or (not topic and types_named):
            # "insertional vs midportion?" compares the types; "what about insertional?" out of the blue asks
            # about the type itself: both are the types card, not a variant of the last answer.
            topic = TYPES_CARD
        topic = topic_in_context(tracker, topic) if topic else None
        if not topic:
            dispatcher.utter_message(text=say("followup_which_topic", language_of(tracker)))
            return []
        answer = answer_for_topic(
            topic,
            tendinopathy_type=latest_entity(tracker, "tendinopathy_type") or tracker.get_slot("tendinopathy_type"),
            severity=severity_in_context(tracker),
        )
        send_answer(dispatcher, answer, preface=escalation_reminder(tracker))
        return [SlotSet("last_topic", topic)]
