"""The topics the bot answers: one NLU intent and one answer card each (the single list the parts share)."""
from __future__ import annotations

# intent name -> card id (knowledge/cards/<card id>.yml)
TOPIC_INTENTS: dict[str, str] = {
    "ask_what_is_tendinopathy": "what_is_tendinopathy",
    "ask_causes": "causes",
    "ask_symptoms": "symptoms",
    "ask_types": "midportion_vs_insertional",
    "ask_diagnosis": "diagnosis",
    "ask_keep_running": "keep_running",
    "ask_return_to_running": "return_to_running",
    "ask_recovery_time": "recovery_time",
    "ask_heel_lifts": "heel_lifts",
    "ask_footwear": "footwear",
    "ask_exercises": "exercises",
    "ask_stretching": "stretching",
    "ask_rest_ice": "rest_ice",
    "ask_medication": "medication",
    "ask_diet": "diet",
    "ask_treatments": "treatments",
    "ask_physio": "physio",
    "ask_running_technique": "running_technique",
    "ask_prevention": "prevention",
    "ask_rehab_mistakes": "rehab_mistakes",
    "ask_see_professional": "see_professional",
    "ask_rupture": "rupture",
}


def card_for_intent(intent: str | None) -> str | None:
    """The card id for a topic intent, or None when the intent is not a topic."""
    return TOPIC_INTENTS.get(intent or "")


def intent_for_card(card: str) -> str:
    """The topic intent of a card id."""
    return next(intent for intent, card_id in TOPIC_INTENTS.items() if card_id == card)
