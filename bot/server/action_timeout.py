"""Start-up patch: an action server call that hangs or fails ends, within seconds, in a short apology.

What Rasa does: `RemoteAction.run` (rasa/core/actions/action.py, Rasa 3.6) waits up to DEFAULT_REQUEST_TIMEOUT
(5 minutes) for the action server; when the call fails (timeout, connection refused, HTTP 5xx) it raises, the
processor logs "Bot will continue, but the actions events are lost" and the person gets no reply at all.

What the clinic needs: a reply within a few seconds whatever fails. This patch wraps `RemoteAction.run`:
- each call gets CLINIC_ACTION_TIMEOUT seconds (default 5, bot/settings.py);
- on a timeout, a refused connection, an HTTP error other than 400 (400 is a form's rejection, which Rasa
  handles) or an invalid response, the action "succeeds" with the apology `utter_<action>_unavailable` if the
  domain has one, else `utter_action_unavailable` (domain/red_flag_advice.yml: it names the clinic's phone), so
  the tracker stays consistent and the next message is handled normally. An active form is closed (a form
  whose checks cannot run must not take unchecked details). A failed `action_session_start` falls back to
  Rasa's own session start (no apology: the message itself is answered next). A form's validation failing
  ends the form (its slots emptied) with the apology;
- after a timeout or a refused connection the action server is not called again for
  CLINIC_ACTION_RETRY_AFTER seconds (default 5): every conversation gets the apology at once instead of each
  waiting out the timeout, then the next call tries again. The state is this process's own view of its action
  server (like a connection pool's), not conversation state.
Red-flag advice does not go through here: Rasa sends it from the domain before `action_escalate` runs. When
`action_escalate` itself fails, the Rasa server records the escalation (level, flags, message; staff notified)
so the clinic still sees it, and says so with `utter_action_escalate_recorded` ("I have passed this to the
team, but cannot take your details now: please call ..."); if that record fails too, the person is told the
team could not be reached (`utter_action_escalate_unavailable`). The action server's next red-flag turn in the
conversation takes the record over (bot/triage/escalate.py), so a hung server answering late doubles nothing.

Test: tests/faults/ (action server stopped, killed, answering 500) and tests/unit/test_action_timeout.py.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
from jsonschema import ValidationError
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction, create_bot_utterance
from rasa.shared.core.constants import ACTION_SESSION_START_NAME, REQUESTED_SLOT
from rasa.shared.core.events import ActiveLoop, Event, SlotSet
from rasa.shared.exceptions import RasaException

from bot import settings

logger = logging.getLogger("clinic.action_timeout")

GENERIC_RESPONSE = "utter_action_unavailable"
MESSAGE_TRIAGE_SLOTS = ("triage_level", "triage_flag")
ESCALATE_ACTION = "action_escalate"
RECORDED_RESPONSE = "utter_action_escalate_recorded"
RECORD_WAIT = 3.0  # seconds the reply waits for the Rasa server's own escalation record


class ActionServerBreaker:
    """After a timeout or a refused connection, skip the action server for a while (then try again)."""

    def __init__(self) -> None:
        self.open_until = 0.0
        self.reason = ""

    def is_open(self) -> bool:
        return time.monotonic() < self.open_until

    def trip(self, reason: str) -> None:
        self.open_until = time.monotonic() + settings.action_retry_after()
        self.reason = reason

    def close(self) -> None:
        if self.open_until:
            logger.info("action server answers again")
        self.open_until, self.reason = 0.0, ""


BREAKER = ActionServerBreaker()
_original_run = RemoteAction.run  # replaced by apply() with whatever RemoteAction.run is at start-up


def _failure(error: BaseException) -> tuple[str, bool]:
    """A short description of why the call failed, and whether the server itself seems down (trip)."""
    if isinstance(error, asyncio.TimeoutError):
        return f"no answer within {settings.action_timeout():g} s", True
    cause = error.__cause__ or error.__context__
    if isinstance(error, aiohttp.ClientConnectionError) or isinstance(cause, aiohttp.ClientConnectionError):
        return "connection refused or lost", True
    status = getattr(cause, "status", None) or getattr(error, "status", None)
    if status:
        return f"HTTP {status}", False
    return f"{type(error).__name__}: {error}", False


async def _apology(action_name: str, output_channel: Any, nlg: Any, tracker: Any, domain: Any,
                  response: str | None = None) -> list[Event]:
    specific = f"utter_{action_name}_unavailable"
    response = response or (specific if specific in domain.responses else GENERIC_RESPONSE)
    message = None
    try:
        message = await nlg.generate(response, tracker, output_channel.name())
    except Exception:  # noqa: BLE001 - a broken response must not silence the apology
        logger.exception("could not render %s", response)
    if not message:
        from bot.triage.advice import line

        message = {"text": line("action_unavailable")}
    message["utter_action"] = response
    return [create_bot_utterance(message)]


def _message_red_flags(tracker: Any) -> tuple[str | None, list[str], str]:
    """(level, flags, text) of the latest message, from what the red-flag detector put in its parse data, else
    from the triage slots (domain/red_flags.yml)."""
    latest = tracker.latest_message
    parse_data = getattr(latest, "parse_data", None) or {}
    red_flags = parse_data.get("red_flags") or {}
    level = red_flags.get("level") or tracker.get_slot("triage_level")
    flags = [str(flag) for flag in (red_flags.get("flags") or [tracker.get_slot("triage_flag")]) if flag]
    return level, flags, getattr(latest, "text", None) or ""


async def record_escalation(tracker: Any) -> Any:
    """The Rasa server's own escalation record when the action server could not make it: the stored
    EscalationResult, or None (no red flag in the message, or the database failed too)."""
    level, flags, text = _message_red_flags(tracker)
    if not level:
        return None
    from bot.triage.escalate import open_escalation

    open_id = tracker.get_slot("escalation_id") if tracker.get_slot("escalation_open") else None
    channel = getattr(tracker.latest_message, "input_channel", None) or tracker.get_latest_input_channel()
    try:
        result = await asyncio.wait_for(asyncio.to_thread(
            open_escalation, tracker.sender_id, channel, level, flags, text,
            open_escalation_id=int(open_id) if str(open_id or "").isdigit() else None, recorded_by="rasa"),
            timeout=RECORD_WAIT)
    except Exception:  # noqa: BLE001 - the person is told to call; the failure is logged
        logger.exception("the Rasa server could not record the escalation of %s either", tracker.sender_id)
        return None
    if not result.stored:
        return None
    logger.warning("escalation %s (%s) recorded by the Rasa server: the action server was unavailable",
                   result.escalation_id, result.level)
    return result


async def fallback_events(action: RemoteAction, output_channel: Any, nlg: Any, tracker: Any,
                          domain: Any) -> list[Event]:
    """What a failed action call is replaced with (see the module docstring)."""
    name = action.name()
    if name == ACTION_SESSION_START_NAME:
        from rasa.core.actions.action import ActionSessionStart

        return await ActionSessionStart().run(output_channel, nlg, tracker, domain)
    recorded = await record_escalation(tracker) if name == ESCALATE_ACTION else None
    if recorded is not None and RECORDED_RESPONSE in domain.responses:
        events = await _apology(name, output_channel, nlg, tracker, domain, RECORDED_RESPONSE)
        events += [SlotSet("escalation_open", True), SlotSet("escalation_level", recorded.level),
                   SlotSet("escalation_id", str(recorded.escalation_id))]
    else:
        events = await _apology(name, output_channel, nlg, tracker, domain)
    # the red-flag slots describe one message (domain/red_flags.yml); action_escalate clears them, so do we
    events += [SlotSet(slot, None) for slot in MESSAGE_TRIAGE_SLOTS if tracker.get_slot(slot) is not None]
    form = tracker.active_loop_name
    if form and name.startswith("validate_"):  # the form's checks cannot run: end it, keep nothing unchecked
        slots = [slot for slot in domain.required_slots_for_form(form) if tracker.get_slot(slot) is not None]
        events += [SlotSet(slot, None) for slot in slots] + [SlotSet(REQUESTED_SLOT, None)]
    elif form:
        events += [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
    return events


async def run_with_timeout(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any,
                           domain: Any) -> list[Event]:
    """RemoteAction.run with a short timeout, a breaker, and the apology instead of silence."""
    if BREAKER.is_open():
        logger.warning("action %s not called: the action server failed moments ago (%s); apologising at once",
                       self.name(), BREAKER.reason)
        return await fallback_events(self, output_channel, nlg, tracker, domain)
    try:
        events = await asyncio.wait_for(_original_run(self, output_channel, nlg, tracker, domain),
                                        timeout=settings.action_timeout())
    except ActionExecutionRejection:
        raise  # a form rejecting the message: Rasa's own unhappy path
    except (asyncio.TimeoutError, RasaException, aiohttp.ClientError, ValidationError) as error:
        reason, server_down = _failure(error)
        if server_down:
            BREAKER.trip(reason)
        logger.error("action %s failed (%s) for conversation %s; the person gets the apology",
                     self.name(), reason, tracker.sender_id)
        return await fallback_events(self, output_channel, nlg, tracker, domain)
    BREAKER.close()
    return events


async def unwrapped_run(action: RemoteAction, output_channel: Any, nlg: Any, tracker: Any,
                        domain: Any) -> list[Event]:
    """RemoteAction.run as it was before this patch (for tests of what Rasa itself does with a response)."""
    return await _original_run(action, output_channel, nlg, tracker, domain)


def apply() -> None:
    """Replace RemoteAction.run with the version that times out and apologises."""
    global _original_run
    if RemoteAction.run is not run_with_timeout:
        _original_run = RemoteAction.run
        RemoteAction.run = run_with_timeout  # type: ignore[method-assign]


__all__ = ["BREAKER", "apply", "fallback_events", "run_with_timeout", "unwrapped_run"]
