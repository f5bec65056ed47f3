"""When the classifier is unsure or the question is not a topic: retrieve a grounded passage, or say so."""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import escalation_reminder
from actions.followup import severity_in_context, topic_in_context
from actions.localised import language_of, say
from actions.render import send_answer
from bot.clinic_profile import clinic_profile
from knowledge.answers import answer_for_question, answer_for_topic

logger = logging.getLogger(__name__)

# The texts (English and translations) are data: actions/texts/<language>.yml (actions/localised.py).


def offer_team_buttons(language: str | None = None) -> list[dict[str, str]]:
    return [{"title": say("team_button", language), "payload": "/request_human"}]


class ActionFallbackRetrieve(Action):
    """Long tail: the best matching passage of the clinic's documents, or an honest 'not covered'."""

    def name(self) -> str:
        return "action_fallback_retrieve"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        question = (tracker.latest_message or {}).get("text") or ""
        if not question.strip():
            dispatcher.utter_message(text=say("empty_message", language_of(tracker)))
            return []
        topic = topic_in_context(tracker, None)  # a short follow-up of the last answer ("what can I do instead?")
        if topic is not None:
            send_answer(dispatcher, answer_for_topic(topic, tendinopathy_type=tracker.get_slot("tendinopathy_type"),
                                                     severity=severity_in_context(tracker)),
                        preface=escalation_reminder(tracker))
            return [SlotSet("last_topic", topic)]
        answer = answer_for_question(question) if not question.startswith("/") else None
        if answer is not None:
            send_answer(dispatcher, answer, preface=escalation_reminder(tracker), offer_more=False)
            return []
        reminder = escalation_reminder(tracker)
        language = language_of(tracker)
        text = say("not_covered", language)
        dispatcher.utter_message(text=f"{reminder}\n\n{text}" if reminder else text,
                                 buttons=offer_team_buttons(language))
        return []


class ActionOfferHuman(Action):
    """'Can I talk to someone?': queue the conversation for the team (bot/handoff), saying honestly when a
    person can reply (the clinic's opening hours) and what to do if it is urgent."""

    def name(self) -> str:
        return "action_offer_human"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        dispatcher.utter_message(text=human_offer_text(tracker.sender_id, language=language_of(tracker)))
        return []


def human_offer_text(conversation_id: str, now: datetime | None = None, language: str | None = None) -> str:
    from bot.handoff import store
    from bot.triage.advice import open_status_in

    profile = clinic_profile()
    now = now or datetime.now(timezone.utc)
    urgent = say("human_urgent", language)
    try:
        store.request_person(conversation_id)
        queued = True
    except Exception:  # noqa: BLE001 - the database is down: still say how to reach the team
        logger.exception("could not queue conversation %s for the team", conversation_id)
        queued = False
    hours = profile.opening_hours
    if not queued:
        return say("human_not_queued", language, urgent=urgent)
    if hours is None:
        return say("human_no_hours", language, urgent=urgent)
    status = open_status_in(profile, language, now)
    key = "human_open" if hours.is_open(now) else "human_closed"
    return say(key, language, status=status, urgent=urgent)
