"""The intent classifier gives an empty message no intent instead of raising (which would lose it)."""
from __future__ import annotations

import asyncio

from rasa.core.agent import Agent

from bot.build import MODEL_FILE


def test_empty_and_blank_messages_are_parsed_to_the_fallback():
    agent = Agent.load(str(MODEL_FILE))
    for text in ("", "   "):
        parsed = asyncio.run(agent.parse_message(text))
        assert parsed["intent"]["name"] == "nlu_fallback"
    assert asyncio.run(agent.parse_message("do heel lifts help?"))["intent"]["name"] == "ask_heel_lifts"
