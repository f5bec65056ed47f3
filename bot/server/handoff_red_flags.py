"""Start-up patch: a red flag still gets the urgent advice while staff have a conversation.

Rasa predicts nothing for a paused conversation (`MessageProcessor._should_handle_message`): that is how a
handoff silences the bot (bot/handoff/). But a patient who reports a red flag while waiting for a person's
reply must get the urgent advice at once, so the processor handles a paused conversation's message when the
red-flag detector set its intent to `red_flag` (the red-flag rules then run as usual: advice, record, notify),
and the handoff is flagged so the console alerts the staff member handling it. The conversation stays paused.
Test: tests/handoff/test_handoff_rasa.py.
"""
from __future__ import annotations

import asyncio
import logging

from rasa.core.processor import MessageProcessor

logger = logging.getLogger(__name__)
RED_FLAG_INTENT = "red_flag"


def _is_red_flag(tracker) -> bool:
    latest = tracker.latest_message
    return latest is not None and (latest.intent or {}).get("name") == RED_FLAG_INTENT


def apply() -> None:
    original_should_handle = MessageProcessor._should_handle_message
    original_log_message = MessageProcessor.log_message
    if getattr(original_should_handle, "_clinic_patched", False):
        return

    def should_handle(tracker) -> bool:
        return original_should_handle(tracker) or (tracker.is_paused() and _is_red_flag(tracker))

    async def log_message(self, message, should_save_tracker: bool = True):
        tracker = await original_log_message(self, message, should_save_tracker=should_save_tracker)
        if tracker.is_paused() and _is_red_flag(tracker):
            from bot.handoff import store

            logger.warning("red flag during a handoff in %s: urgent advice sent, staff alerted", tracker.sender_id)
            try:
                await asyncio.get_running_loop().run_in_executor(None, store.mark_red_flag, tracker.sender_id)
            except Exception:  # noqa: BLE001 - the advice must go out even if the alert cannot be stored
                logger.exception("could not flag the handoff of %s", tracker.sender_id)
        return tracker

    should_handle._clinic_patched = True  # type: ignore[attr-defined]
    MessageProcessor._should_handle_message = staticmethod(should_handle)
    MessageProcessor.log_message = log_message
