"""Session start: the 'general information, not a diagnosis' disclaimer opens every conversation."""
from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher


class ActionSessionStart(Action):
    """Start a session, carry slots over (an open escalation stays open), and show the disclaimer."""

    def name(self) -> str:
        return "action_session_start"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        carried = [
            SlotSet(key, value)
            for key, value in tracker.current_slot_values().items()
            if value is not None and key != "requested_slot"
        ]
        dispatcher.utter_message(response="utter_disclaimer")
        return [SessionStarted(), *carried, ActionExecuted("action_listen")]
