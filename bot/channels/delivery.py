"""Outgoing delivery, recorded: every platform call's outcome goes on the conversation (channel_messages), and
urgent advice that could not be delivered is marked on the conversation's escalation and told to staff.

An output channel sends through `DeliveryRecorder.deliver(...)`; a call that still fails after its retries is
recorded and logged. Inside a webhook's turn it is not raised (`raise_failures = False`), so the rest of the
turn (recording the escalation, the contact offer, the next message) still happens; elsewhere (a staff reply
through bot/handoff, a direct call) the ChannelAPIError is raised after recording, so the caller can say so.
After the turn the connector calls `report_undelivered(recorder)`: by then the action server has written the
escalation, so the note lands on it.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.channels import store
from bot.channels.common import ChannelAPIError
from bot.triage.flags import URGENT_LEVELS

logger = logging.getLogger(__name__)


@dataclass
class Undelivered:
    conversation_id: str
    channel: str
    level: str
    error: str


@dataclass
class DeliveryRecorder:
    """One per output channel instance (one per incoming message): records sends, keeps urgent failures."""

    channel: str
    raise_failures: bool = True
    undelivered_urgent: list[Undelivered] = field(default_factory=list)
    failures: int = 0

    async def deliver(self, conversation_id: str, call: Callable[[], Awaitable[dict]], *,
                      level: str | None = None,
                      message_id: Callable[[dict], str | None] = lambda answer: None) -> dict | None:
        """Run one platform call; record its outcome; on final failure log it and return None."""
        urgent = level if level in URGENT_LEVELS else None
        try:
            answer = await call()
        except ChannelAPIError as error:
            logger.error("%s: a message to conversation %s could not be delivered (%s attempt(s), HTTP %s)%s",
                         self.channel, conversation_id, error.attempts, error.status,
                         f"; it was {urgent} advice" if urgent else "")
            self.failures += 1
            await _quietly(store.record_outgoing, conversation_id, self.channel, "failed", urgent_level=urgent,
                           attempts=error.attempts, error=str(error))
            if urgent:
                self.undelivered_urgent.append(Undelivered(conversation_id, self.channel, urgent, str(error)))
            if self.raise_failures:
                raise
            return None
        await _quietly(store.record_outgoing, conversation_id, self.channel, "sent", urgent_level=urgent,
                       platform_message_id=_safe(message_id, answer))
        return answer


def _safe(extract: Callable[[dict], str | None], answer: dict) -> str | None:
    try:
        value = extract(answer)
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    return None if value is None else str(value)


async def _quietly(function: Callable, *args, **kwargs):
    """Run a database write in a thread; a failure is logged (the message itself was already handled)."""
    try:
        return await asyncio.to_thread(function, *args, **kwargs)
    except Exception as error:  # noqa: BLE001 - the record is secondary to the reply; say so and go on
        logger.error("recording delivery for %s failed: %s: %s", args[:1], type(error).__name__, error)
        return None


def note_and_notify(failure: Undelivered) -> int | None:
    """Mark the failure on the conversation's latest escalation and tell the staff; the escalation id."""
    from bot.escalations import mark_advice_undelivered
    from bot.notify import notify_staff

    escalation_id = None
    try:
        escalation_id = mark_advice_undelivered(failure.conversation_id, failure.channel, failure.level)
    except Exception as error:  # noqa: BLE001 - staff are still notified below
        logger.error("marking undelivered advice on the escalation of %s failed: %s",
                     failure.conversation_id, error)
    notify_staff({"event": "urgent_advice_undelivered", "id": escalation_id,
                  "conversation_id": failure.conversation_id, "channel": failure.channel,
                  "level": failure.level, "error": failure.error[:200]})
    return escalation_id


async def report_undelivered(recorder: DeliveryRecorder | None) -> None:
    """After a turn: each urgent message that could not be delivered is marked and told to staff, once."""
    if recorder is None:
        return
    failures, recorder.undelivered_urgent = recorder.undelivered_urgent, []
    for failure in failures:
        await _quietly(note_and_notify, failure)


async def status_callback(channel: str, platform_message_id: str, status: str, error: str | None) -> None:
    """A platform's delivery status for a message we sent; a failed urgent message is reported like above."""
    row = await _quietly(store.update_status, channel, platform_message_id, status, error)
    if row is not None and status in store.FAILED_STATUSES and row.urgent_level:
        await _quietly(note_and_notify, Undelivered(row.conversation_id, channel, row.urgent_level,
                                                    error or status))
