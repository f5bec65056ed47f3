"""The topics the bot answers, read from the cards: each card in knowledge/cards names its NLU intent.

A card is the single source of a topic. The intent list of the domain and the rule that answers each topic
(bot/topic_wiring.py, written under build/rasa/ by `python -m bot build`) and this map are derived from the cards'
`intent:` fields; nothing else lists the topics.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from bot.paths import CARDS_DIR

INTENT_NAME = re.compile(r"^ask_[a-z][a-z0-9_]*$")


class TopicError(ValueError):
    """A card whose intent cannot be a topic intent (wrong form, or used by another card)."""


@lru_cache(maxsize=4)
def topic_intents(cards_dir: Path = CARDS_DIR) -> dict[str, str]:
    """intent name -> card id, for every card in cards_dir, in card id order."""
    topics: dict[str, str] = {}
    for path in sorted(cards_dir.glob("*.yml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
        card_id, intent = data.get("id") or path.stem, data.get("intent")
        if not isinstance(intent, str) or not INTENT_NAME.match(intent):
            raise TopicError(f"{path}: intent {intent!r} must look like ask_<topic> (lower case, digits, _)")
        if intent in topics:
            raise TopicError(f"{path}: intent {intent} is already the intent of card {topics[intent]!r}")
        topics[intent] = card_id
    return topics


def card_for_intent(intent: str | None) -> str | None:
    """The card id for a topic intent, or None when the intent is not a topic."""
    return topic_intents().get(intent or "")


def intent_for_card(card: str) -> str:
    """The topic intent of a card id."""
    return next(intent for intent, card_id in topic_intents().items() if card_id == card)


def __getattr__(name: str) -> dict[str, str]:
    # TOPIC_INTENTS reads like the constant it used to be, but comes from the cards on first use.
    if name == "TOPIC_INTENTS":
        return topic_intents()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
