"""When the classifier is unsure or the question is not a topic: retrieve a grounded passage, or say so."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import escalation_reminder
from actions.render import send_answer
from bot.clinic_profile import clinic_profile
from knowledge.answers import answer_for_question

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
    """'Can I talk to someone?': how to reach the clinic's team."""

    def name(self) -> str:
        return "action_offer_human"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        profile = clinic_profile()
        dispatcher.utter_message(
            text=(f"You can reach the team at {profile.name}: call {profile.phone} ({profile.hours}), "
                  f"email {profile.email}, or book an assessment at {profile.booking_url}. "
                  "If this is urgent (a sudden pop, you can't walk, or a hot, swollen calf), "
                  f"don't wait: call {profile.emergency_number} or use {profile.urgent_care}.")
        )
        return []
