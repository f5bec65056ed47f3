"""Start-up patch bot/server/action_validation.py: action server responses still checked, same errors."""
from __future__ import annotations

import asyncio

import jsonschema
import pytest
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.launcher import LOOPBACK, free_port
from bot.server import action_timeout, action_validation
from bot.server.patches import PATCHES, apply_all

VALID = {"events": [{"event": "slot", "name": "topic", "value": "heel_lifts", "timestamp": None}],
         "responses": [{"text": "Heel lifts can ease strain early on."}]}
INVALID = [
    {"events": "not a list", "responses": []},
    {"events": [{"no_event_key": 1}], "responses": []},
    {"events": [], "responses": "not a list"},
]


def run_against(body: dict) -> list:
    """Run one RemoteAction against a real aiohttp action server on loopback that answers `body`."""
    async def main() -> list:
        app = web.Application()
        app.router.add_post("/webhook", lambda _request: _json(body))
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, LOOPBACK, port).start()
        try:
            domain = Domain.from_dict({"slots": {"topic": {"type": "text", "mappings": [{"type": "custom"}]}},
                                       "actions": ["action_answer_topic"]})
            action = RemoteAction("action_answer_topic", EndpointConfig(f"http://{LOOPBACK}:{port}/webhook"))
            tracker = DialogueStateTracker("runner-1", domain.slots)
            # Rasa's own run, without bot.server.action_timeout's wrapper (which turns the error into an apology)
            return await action_timeout.unwrapped_run(action, CollectingOutputChannel(),
                                                      TemplatedNaturalLanguageGenerator({}), tracker, domain)
        finally:
            await runner.cleanup()

    return asyncio.run(main())


async def _json(body: dict) -> web.Response:
    return web.json_response(body)


@pytest.fixture(autouse=True)
def patched():
    original = RemoteAction._validate_action_result
    action_validation.apply()
    yield
    RemoteAction._validate_action_result = original


def test_patch_is_registered_and_applied():
    assert "bot.server.action_validation:apply" in PATCHES
    assert "bot.server.action_validation:apply" in apply_all()
    assert RemoteAction._validate_action_result is action_validation.validate_action_result


def test_valid_response_is_accepted():
    assert RemoteAction._validate_action_result is action_validation.validate_action_result
    events = run_against(VALID)
    assert [e.text for e in events if getattr(e, "text", None)] == ["Heel lifts can ease strain early on."]
    assert any(getattr(e, "key", None) == "topic" and e.value == "heel_lifts" for e in events)


@pytest.mark.parametrize("body", INVALID, ids=["events-not-list", "event-without-name", "responses-not-list"])
def test_invalid_response_is_rejected_with_rasas_error(body):
    assert RemoteAction._validate_action_result is action_validation.validate_action_result
    with pytest.raises(jsonschema.ValidationError) as patched_error:
        run_against(body)
    with pytest.raises(jsonschema.ValidationError) as original_error:
        jsonschema.validate(body, RemoteAction.action_response_format_spec())
    assert patched_error.value.message.startswith(original_error.value.message)
    assert "Failed to validate Action server response" in patched_error.value.message
    assert list(patched_error.value.path) == list(original_error.value.path)


def test_validator_is_built_once():
    action_validation.response_validator.cache_clear()
    for _ in range(3):
        action_validation.validate_action_result(None, VALID)
    assert action_validation.response_validator.cache_info().misses == 1
