"""bot/server/action_timeout.py against a real aiohttp action server on loopback: a call that hangs, answers 500
or cannot connect ends, within the timeout, in the apology naming the clinic's phone; an open form is closed;
a failed session start is Rasa's own; a form's 400 rejection still reaches Rasa; the breaker answers at once."""
from __future__ import annotations

import asyncio
import time

import pytest
from aiohttp import web
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.clinic_profile import clinic_profile
from bot.launcher import free_port
from bot.server import action_timeout
from bot.topic_wiring import rasa_domain
from bot.triage.advice import line

DOMAIN = rasa_domain()


@pytest.fixture(autouse=True)
def short_timeout(monkeypatch):
    monkeypatch.setenv("CLINIC_ACTION_TIMEOUT", "0.5")
    monkeypatch.setenv("CLINIC_ACTION_RETRY_AFTER", "1")
    unpatched = RemoteAction.run
    action_timeout.apply()
    action_timeout.BREAKER.close()
    yield
    action_timeout.BREAKER.close()
    RemoteAction.run = unpatched  # other tests in this process see Rasa's own RemoteAction


def tracker(events=()) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("runner", [ActionExecuted("action_listen"),
                                                       UserUttered("do heel lifts help?"), *events],
                                            slots=DOMAIN.slots)


async def call(action_name: str, behaviour: str, events=()) -> tuple[list, float]:
    """Run `action_name` against an action server that behaves as told; the events and the seconds taken."""
    async def webhook(request: web.Request) -> web.StreamResponse:
        if behaviour == "hang":
            await asyncio.sleep(30)
        if behaviour == "reject":
            return web.json_response({"action_name": action_name, "error": "no"}, status=400)
        if behaviour == "ok":
            return web.json_response({"events": [], "responses": [{"text": "the real answer"}]})
        return web.json_response({"error": "boom"}, status=500)

    port = free_port()
    runner = None
    if behaviour != "refused":
        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        action = RemoteAction(action_name, EndpointConfig(f"http://127.0.0.1:{port}/webhook"))
        start = time.monotonic()
        result = await action.run(CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(DOMAIN.responses),
                                  tracker(events), DOMAIN)
        return result, time.monotonic() - start
    finally:
        if runner is not None:
            await runner.cleanup()


def texts(events) -> list[str]:
    return [e.text for e in events if isinstance(e, BotUttered)]


@pytest.mark.parametrize("behaviour", ["hang", "500", "refused"])
def test_a_failing_call_ends_in_the_apology_within_the_timeout(behaviour):
    events, seconds = asyncio.run(call("action_answer_topic", behaviour))
    assert seconds < 1.5
    assert texts(events) == [line("action_unavailable")] and clinic_profile().phone in texts(events)[0]


def test_escalate_failing_is_recorded_by_the_rasa_server_and_said_so(clinic_db):
    from bot import escalations

    events, _ = asyncio.run(call("action_escalate", "500", [SlotSet("triage_level", "same_day"),
                                                            SlotSet("triage_flag", "rupture_pop_snap")]))
    assert texts(events) == [line("escalation_recorded")] and clinic_profile().phone in texts(events)[0]
    assert SlotSet("triage_level", None) in events and SlotSet("escalation_open", True) in events
    record = escalations.adoptable_escalation("runner")
    assert record is not None and record.level == "same_day" and record.flags == "rupture_pop_snap"
    assert SlotSet("escalation_id", str(record.id)) in events


def test_escalate_failing_with_the_database_down_too_says_the_team_was_not_reached(monkeypatch):
    monkeypatch.setenv("CLINIC_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    events, _ = asyncio.run(call("action_escalate", "500", [SlotSet("triage_level", "same_day")]))
    assert texts(events) == [line("escalation_unavailable")]
    assert SlotSet("triage_level", None) in events and SlotSet("escalation_open", True) not in events


def test_the_action_server_takes_over_the_rasa_servers_record(clinic_db):
    from bot import escalations
    from bot.triage.escalate import open_escalation

    first = open_escalation("runner", "rest", "same_day", ["rupture_pop_snap"], "a loud pop", recorded_by="rasa")
    # a hung action server answering late, about the same message: the same record, nothing added
    late = open_escalation("runner", "rest", "same_day", ["rupture_pop_snap"], "a loud pop")
    assert late.escalation_id == first.escalation_id and late.new  # new for this server: it makes the offer
    record = escalations.get_escalation(first.escalation_id)
    assert record.recorded_by == "rasa,adopted" and not record.notes
    # adopted once: the next red flag of the conversation is an ordinary update or a new record
    assert escalations.adoptable_escalation("runner") is None
    other = open_escalation("runner", "rest", "emergency", ["possible_clot_calf"], "calf hot and swollen")
    assert other.escalation_id != first.escalation_id


def test_an_open_form_is_closed_and_its_validation_failing_empties_it():
    form = [ActiveLoop("contact_form"), SlotSet("requested_slot", "contact_details"), SlotSet("contact_name", "Sam")]
    events, _ = asyncio.run(call("action_submit_contact", "500", form))
    assert ActiveLoop(None) in events and SlotSet("requested_slot", None) in events
    events, _ = asyncio.run(call("validate_contact_form", "500", form))
    assert SlotSet("contact_name", None) in events and SlotSet("requested_slot", None) in events


def test_a_failed_session_start_is_rasas_own_session_start():
    events, _ = asyncio.run(call("action_session_start", "refused"))
    assert any(isinstance(e, SessionStarted) for e in events) and not texts(events)


def test_a_forms_rejection_still_reaches_rasa():
    with pytest.raises(ActionExecutionRejection):
        asyncio.run(call("validate_contact_form", "reject"))


def test_after_a_timeout_the_breaker_answers_at_once_then_tries_again():
    asyncio.run(call("action_answer_topic", "hang"))
    assert action_timeout.BREAKER.is_open()
    events, seconds = asyncio.run(call("action_answer_topic", "ok"))  # not even called
    assert seconds < 0.2 and texts(events) == [line("action_unavailable")]
    time.sleep(1.1)
    events, _ = asyncio.run(call("action_answer_topic", "ok"))
    assert texts(events) == ["the real answer"] and not action_timeout.BREAKER.is_open()


def test_a_500_does_not_trip_the_breaker():
    asyncio.run(call("action_answer_topic", "500"))
    assert not action_timeout.BREAKER.is_open()
