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
from actions.render import send_answer
from bot.clinic_profile import clinic_profile
from knowledge.answers import answer_for_question, answer_for_topic

logger = logging.getLogger(__name__)

NOT_COVERED = (
    "I'm sorry, the clinic's notes don't cover that, and I don't want to guess about your health. "
    "The clinic's team can help: call {phone} ({hours}) or book at {booking_url}."
)


EMPTY_MESSAGE = ("I didn't receive any text. Please type your question about your Achilles, for example "
                 "\"can I keep running?\" or \"do heel lifts help?\".")


def offer_team_buttons() -> list[dict[str, str]]:
    return [{"title": "Ask the clinic's team", "payload": "/request_human"}]


class ActionFallbackRetrieve(Action):
    """Long tail: the best matching passage of the clinic's documents, or an honest 'not covered'."""

    def name(self) -> str:
        return "action_fallback_retrieve"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        question = (tracker.latest_message or {}).get("text") or ""
        if not question.strip():
            dispatcher.utter_message(text=EMPTY_MESSAGE)
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
        profile = clinic_profile()
        reminder = escalation_reminder(tracker)
        text = NOT_COVERED.format(phone=profile.phone, hours=profile.hours, booking_url=profile.booking_url)
        dispatcher.utter_message(text=f"{reminder}\n\n{text}" if reminder else text, buttons=offer_team_buttons())
        return []


class ActionOfferHuman(Action):
    """'Can I talk to someone?': queue the conversation for the team (bot/handoff), saying honestly when a
    person can reply (the clinic's opening hours) and what to do if it is urgent."""

    def name(self) -> str:
        return "action_offer_human"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        dispatcher.utter_message(text=human_offer_text(tracker.sender_id))
        return []


def human_offer_text(conversation_id: str, now: datetime | None = None) -> str:
    from bot.handoff import store

    profile = clinic_profile()
    now = now or datetime.now(timezone.utc)
    book = f"You can also book an assessment at {profile.booking_url}."
    urgent = (f"{book} If this is urgent (a sudden pop, you can't walk, or a hot, swollen calf), don't wait: "
              f"call {profile.emergency_number} or use {profile.urgent_care}.")
    try:
        store.request_person(conversation_id)
        queued = True
    except Exception:  # noqa: BLE001 - the database is down: still say how to reach the team
        logger.exception("could not queue conversation %s for the team", conversation_id)
        queued = False
    hours = profile.opening_hours
    if not queued:
        return (f"I couldn't pass this chat to the team just now. Please call {profile.name} on {profile.phone} "
                f"({profile.hours}) or email {profile.email}. {urgent}")
    if hours is None:
        return (f"I've asked the team at {profile.name} to join this chat; someone will reply here. You can also "
                f"call {profile.phone} ({profile.hours}). {urgent}")
    status = hours.status_sentence(now)
    if hours.is_open(now):
        return (f"I've asked the team at {profile.name} to join this chat. {status} Someone will reply here "
                f"as soon as they are free; you can also call {profile.phone}. {urgent}")
    return (f"{status} I've left your request for the team at {profile.name}: someone will reply here after "
            f"the clinic opens, or you can call {profile.phone} then. {urgent}")
