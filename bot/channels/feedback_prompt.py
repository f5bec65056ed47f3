"""'Was this helpful?' on Telegram and WhatsApp: which bot messages are rated, the rating payload, and the
WhatsApp prompt shown at most once a day per conversation.

A knowledge answer is a bot message whose metadata carries the grounding of a card (`grounding.topic`, set by
actions/render.py) and that is not red-flag advice. Only those are rated; small talk, passages without a card
and urgent advice never are.

- Telegram puts a 👍 / 👎 row under the answer; a press sends the widget's payload
  `/feedback_helpful{"feedback_topic":"<topic>"}` (without the topic when that would not fit callback_data's
  64 bytes: actions/feedback.py then rates the latest answer).
- WhatsApp (Twilio and Meta) has no room for that, so the first knowledge answer of the day in a conversation
  ends with one line, PROMPT. A reply that is only 👍 or 👎 (any skin tone) while that prompt is the last thing
  the bot sent becomes the rating payload before it reaches Rasa; any other reply, or a 👍 at another time,
  goes to Rasa as the text it is.

The state (prompted today? prompt still the latest message?) lives in the same store as the channels' rate
limits: Redis when CLINIC_REDIS_URL is set (shared by every Rasa server), else this process's memory. When the
store cannot be reached nobody is prompted and replies pass as text: feedback is never worth a lost message.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from limits.storage import storage_from_string

from bot.channels.messages import triage_level
from bot.channels.settings import redis_url

logger = logging.getLogger(__name__)

PROMPT = "Was this helpful? Reply 👍 or 👎"
HELPFUL, UNHELPFUL = "/feedback_helpful", "/feedback_unhelpful"
KEY_PREFIX = "clinic:feedback-prompt"
DAY_KEY_SECONDS = 2 * 24 * 3600       # a day's "prompted" mark is kept a little longer than the day
PENDING_SECONDS = 24 * 3600           # a prompt nobody answered is forgotten after a day
# 👍 or 👎, optionally with a skin-tone modifier and/or the emoji variation selector, and spaces around
THUMB = re.compile("^\\s*(\U0001F44D|\U0001F44E)\uFE0F?[\U0001F3FB-\U0001F3FF]?\uFE0F?\\s*$")


def now() -> float:
    """The clock (seconds since the epoch); tests replace it with a fixed one."""
    return time.time()


def answer_topic(message_kwargs: dict[str, Any]) -> str | None:
    """The card topic of a knowledge answer, or None for anything that must not be rated (no card grounding,
    red-flag advice of any level)."""
    grounding = message_kwargs.get("grounding") or (message_kwargs.get("metadata") or {}).get("grounding")
    if not isinstance(grounding, dict):
        return None
    topic = grounding.get("topic")
    if not isinstance(topic, str) or not topic.strip():
        return None
    if triage_level(message_kwargs) is not None:
        return None
    return topic.strip()


def rating_payload(helpful: bool, topic: str | None = None, max_bytes: int | None = None) -> str:
    """The payload the widget sends for a rating; without the topic when it would exceed `max_bytes`."""
    intent = HELPFUL if helpful else UNHELPFUL
    if not topic:
        return intent
    payload = intent + json.dumps({"feedback_topic": topic}, separators=(",", ":"), ensure_ascii=False)
    if max_bytes is not None and len(payload.encode("utf-8")) > max_bytes:
        return intent
    return payload


def is_rating_payload(text: str | None) -> bool:
    return isinstance(text, str) and any(text == intent or text.startswith(intent + "{")
                                         for intent in (HELPFUL, UNHELPFUL))


def thumb(text: str | None) -> bool | None:
    """True for a message that is only 👍, False for only 👎 (skin tones and spaces allowed), else None."""
    match = THUMB.match(text or "")
    if not match:
        return None
    return match.group(1) == "\U0001F44D"


def answered_topic(events: list[Any]) -> str | None:
    """The topic of the bot's latest message in a conversation log, when that message was a knowledge answer."""
    for event in reversed(list(events)):
        if isinstance(event, dict):
            kind, metadata = event.get("event"), event.get("metadata") or {}
        else:
            kind, metadata = getattr(event, "type_name", None), getattr(event, "metadata", None) or {}
        if kind == "bot":
            grounding = metadata.get("grounding") if isinstance(metadata, dict) else None
            topic = grounding.get("topic") if isinstance(grounding, dict) else None
            return topic if isinstance(topic, str) and topic else None
    return None


# ---- the WhatsApp prompt's state -------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _storage(url: str):  # noqa: ANN202 - a limits storage
    return storage_from_string(url)


def storage():  # noqa: ANN201 - a limits storage (incr / get / clear with expiry)
    return _storage(redis_url() or "memory://")


def _day(at: float) -> str:
    """The clinic's calendar day (its opening-hours time zone; UTC when the profile has none)."""
    zone: Any = timezone.utc
    try:
        from bot.clinic_profile import clinic_profile

        hours = clinic_profile().opening_hours
        if hours is not None:
            zone = hours.zone
    except Exception as error:  # noqa: BLE001 - the day in UTC is good enough for a feedback prompt
        logger.debug("clinic time zone unavailable for the feedback prompt (%s); using UTC", error)
    return datetime.fromtimestamp(at, zone).date().isoformat()


def _day_key(conversation: str, at: float) -> str:
    return f"{KEY_PREFIX}:day:{conversation}:{_day(at)}"


def _pending_key(conversation: str) -> str:
    return f"{KEY_PREFIX}:pending:{conversation}"


def _prompt_after(conversation: str, text: str, message_kwargs: dict[str, Any]) -> bool:
    """Record this outgoing message; True when it is to end with PROMPT (then the prompt is pending)."""
    store = storage()
    pending = _pending_key(conversation)
    store.clear(pending)  # whatever the bot sends now is the latest message, not an earlier prompt
    if answer_topic(message_kwargs) is None:
        return False
    if store.incr(_day_key(conversation, now()), DAY_KEY_SECONDS) != 1:  # atomic: one prompt a day
        return False
    store.incr(pending, PENDING_SECONDS)
    return True


async def with_prompt(conversation: str, text: str, message_kwargs: dict[str, Any]) -> str:
    """`text` with the prompt line appended when it is the conversation's first knowledge answer of the day.

    Call it for every text message sent to a WhatsApp conversation: any message that goes out without the
    prompt makes an earlier prompt no longer the latest one.
    """
    try:
        prompted = await asyncio.to_thread(_prompt_after, conversation, text, message_kwargs)
    except Exception as error:  # noqa: BLE001 - no prompt rather than no answer
        logger.warning("feedback prompt store unavailable (%s: %s): answer sent without the prompt",
                       type(error).__name__, error)
        return text
    return f"{text.rstrip()}\n\n{PROMPT}" if prompted else text


async def sent_without_prompt(conversation: str) -> None:
    """Something other than text (an image) went out: a pending prompt is no longer the latest message."""
    try:
        await asyncio.to_thread(storage().clear, _pending_key(conversation))
    except Exception as error:  # noqa: BLE001
        logger.warning("feedback prompt store unavailable (%s: %s)", type(error).__name__, error)


def _take_pending(conversation: str) -> bool:
    store = storage()
    pending = _pending_key(conversation)
    if store.get(pending) <= 0:
        return False
    store.clear(pending)  # the person's next message answers the prompt, or moves on from it
    return True


async def rating_reply(conversation: str, text: str | None) -> bool | None:
    """True / False when `text` is 👍 / 👎 answering the prompt the bot sent last; None for anything else.

    Any message clears a pending prompt: only the reply that follows it can be a rating.
    """
    try:
        pending = await asyncio.to_thread(_take_pending, conversation)
    except Exception as error:  # noqa: BLE001 - the text goes to Rasa as it is
        logger.warning("feedback prompt store unavailable (%s: %s): reply passed as text", type(error).__name__,
                       error)
        return None
    return thumb(text) if pending else None
