"""Ask instead of guess: the key signs and a yes/no question when only the classifier suspects a red flag."""
from __future__ import annotations

import copy
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.escalation import ActionEscalate
from actions.render import send_answer
from bot.clinic_profile import clinic_profile
from bot.topics import card_for_intent
from bot.triage.flags import CLASSIFIER_FLAG
from knowledge.answers import answer_for_question, answer_for_topic

CHECK_ENTITY = "red_flag_check"
CONFIRMED_LEVEL = "same_day"
# The classifier put red_flag first; the question's topic is the best of the rest. Its share of the rest (the
# ranking without red_flag, renormalised) must be at least this; otherwise the passage retrieval answers, or the
# bot asks what the user would like to know.
CLEARED_TOPIC_MIN_SHARE = 0.3
NOT_TOPICS = {"red_flag", "nlu_fallback"}


def checked_message(tracker: Tracker) -> dict:
    """The parse data of the user message that raised the check (the latest one marked with the entity)."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        if any(e.get("entity") == CHECK_ENTITY for e in parse.get("entities") or []):
            return {**parse, "text": event.get("text") or parse.get("text") or ""}
    return {}


def topic_of(parse: dict) -> str | None:
    """The topic card the checked message asked about: the question of a long story when question focus found one
    (bot/nlp/question_focus.py), otherwise its best topic intent, if clearly ahead of the rest."""
    focused = card_for_intent((parse.get("question_focus") or {}).get("intent") or "")
    if focused:
        return focused
    ranked = [(e.get("name"), e.get("confidence") or 0.0) for e in parse.get("intent_ranking") or []
              if e.get("name") not in NOT_TOPICS]
    total = sum(confidence for _, confidence in ranked)
    for name, confidence in ranked:
        topic = card_for_intent(name)
        if topic:
            return topic if total > 0 and confidence / total >= CLEARED_TOPIC_MIN_SHARE else None
    return None


class ActionRedFlagCheck(Action):
    """The key signs with the conditional advice (clinic.yml's numbers) and the yes/no question."""

    def name(self) -> str:
        return "action_red_flag_check"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        profile = clinic_profile()
        dispatcher.utter_message(response="utter_red_flag_check", urgent_care=profile.urgent_care,
                                 emergency_number=profile.emergency_number, phone=profile.phone,
                                 hours=profile.hours, triage={"level": None, "check": True})
        return [SlotSet("red_flag_check", None),
                SlotSet("red_flag_check_text", (tracker.latest_message or {}).get("text"))]


class ActionRedFlagConfirmed(ActionEscalate):
    """Yes: the escalation of the checked message at same_day. Rasa has sent the same-day advice (the rule's
    utter_red_flag_same_day); this adds the record, the staff notification and the contact offer."""

    def name(self) -> str:
        return "action_red_flag_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        checked = checked_message(tracker)
        confirmed = copy.copy(tracker)
        confirmed.latest_message = {
            **checked,
            "text": checked.get("text") or tracker.get_slot("red_flag_check_text") or "",
            "red_flags": {"level": CONFIRMED_LEVEL, "flags": [CLASSIFIER_FLAG], "source": "classifier+confirmed"},
            "input_channel": (tracker.latest_message or {}).get("input_channel"),
        }
        return await super().run(dispatcher, confirmed, domain) + [SlotSet("red_flag_check_text", None)]


class ActionRedFlagCleared(Action):
    """No: answer the question the checked message asked, or ask what the user would like to know."""

    def name(self) -> str:
        return "action_red_flag_cleared"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        checked = checked_message(tracker)
        topic = topic_of(checked)
        events: list[EventType] = [SlotSet("red_flag_check_text", None)]
        cleared = ((domain.get("responses") or {}).get("utter_red_flag_check_cleared") or [{}])[0].get("text")
        if topic is not None:
            answer = answer_for_topic(topic, tendinopathy_type=tracker.get_slot("tendinopathy_type"),
                                      severity=tracker.get_slot("severity"))
            events.append(SlotSet("last_topic", topic))
        else:
            answer = answer_for_question(checked.get("text") or "")
        if answer is None:
            dispatcher.utter_message(response="utter_red_flag_check_cleared")
            dispatcher.utter_message(response="utter_red_flag_check_what")
            return events
        send_answer(dispatcher, answer, preface=cleared, offer_more=topic is not None)
        return events
