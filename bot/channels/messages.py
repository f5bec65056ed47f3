"""Channel-neutral message shaping: splitting long texts, numbered options, mapping "2" back to a payload."""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from typing import Any

from bot.channels.settings import max_message_chars
from bot.triage.flags import LEVELS, URGENT_LEVELS

logger = logging.getLogger(__name__)

UNSUPPORTED_INPUT_REPLY = (
    "Sorry, I can only read text messages. Please type your question about your Achilles tendon in words."
)
EDITED_MESSAGE_REPLY = (
    "I saw that you edited a message, but I can't follow edits. "
    "Please send the corrected text as a new message."
)


def split_message(text: str, limit: int) -> list[str]:
    """Split `text` into parts of at most `limit` characters, preferring paragraph, line, then word breaks.

    Parts are stripped; nothing is lost but the whitespace at the breaks. Text within the limit is one part.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    text = text.strip()
    parts: list[str] = []
    while len(text) > limit:
        window = text[: limit + 1]  # a break exactly at `limit` still keeps the part within the limit
        cut = _break_position(window, limit)
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def _break_position(window: str, limit: int) -> int:
    """Where to cut: a paragraph or line break in the second half of the window, else the last space."""
    for separator in ("\n\n", "\n"):
        position = window.rfind(separator)
        if position >= limit // 2:
            return position
    for separator in (" ", "\n"):
        position = window.rfind(separator)
        if position > 0:
            return position
    return limit  # one very long word: cut it hard


def message_limit(platform_limit: int, env_name: str) -> int:
    """The platform's message length limit, or a smaller one from `env_name` (tests use it to force splitting
    of real answers end to end). A value above the platform's limit is ignored."""
    wanted = os.environ.get(env_name, "").strip()
    if not wanted:
        return platform_limit
    if not wanted.isdigit() or int(wanted) < 1:
        raise ValueError(f"{env_name}={wanted!r}: expected a positive whole number of characters")
    return min(int(wanted), platform_limit)


def numbered_options(buttons: Iterable[dict[str, Any]]) -> str:
    """'1. Tell me more\\n2. Which exercises help?' for channels without buttons (WhatsApp via Twilio)."""
    return "\n".join(f"{number}. {button.get('title', '')}" for number, button in enumerate(buttons, start=1))


def with_numbered_options(text: str, buttons: list[dict[str, Any]]) -> str:
    if not buttons:
        return text
    return f"{text.rstrip()}\n\nReply with a number:\n{numbered_options(buttons)}"


_CHOICE = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


def choose_option(reply: str, buttons: list[dict[str, Any]] | None) -> str | None:
    """The payload of the option the user picked by number ("2", "2.") or by its exact title; else None."""
    if not buttons or not reply:
        return None
    match = _CHOICE.match(reply)
    if match:
        index = int(match.group(1)) - 1
        if 0 <= index < len(buttons):
            return buttons[index].get("payload") or buttons[index].get("title")
        return None
    wanted = reply.strip().casefold()
    for button in buttons:
        if str(button.get("title", "")).strip().casefold() == wanted:
            return button.get("payload") or button.get("title")
    return None


def offered_buttons(events: Iterable[Any]) -> list[dict[str, Any]] | None:
    """The buttons of the bot's most recent turn (since the user's last message), or None.

    `events` are Rasa events (objects with .type_name / .data, or their dict form). If the bot sent several
    messages with buttons in one turn, the last one counts: that is the list the user sees last.
    """
    for event in reversed(list(events)):
        if isinstance(event, dict):
            kind, data = event.get("event"), event.get("data") or {}
        else:
            kind, data = getattr(event, "type_name", None), getattr(event, "data", None) or {}
        if kind == "user":
            return None
        if kind == "bot" and data.get("buttons"):
            return list(data["buttons"])
    return None


def triage_level(message_kwargs: dict[str, Any]) -> str | None:
    """The red-flag level of a bot message, from its `triage` metadata only: every advice message carries it
    (domain/red_flag_advice.yml and the translated advice as response metadata, the escalation actions as a
    `triage` key), so no channel guesses from the wording."""
    triage = message_kwargs.get("triage") or (message_kwargs.get("metadata") or {}).get("triage")  # action / domain
    if isinstance(triage, dict) and triage.get("level") in LEVELS:
        return str(triage["level"])
    return None


def is_urgent(message_kwargs: dict[str, Any]) -> bool:
    """True for red-flag advice of an urgent level (emergency or same day)."""
    return triage_level(message_kwargs) in URGENT_LEVELS


def mark_urgent(text: str, message_kwargs: dict[str, Any]) -> str:
    """Put a warning sign in front of urgent red-flag advice on text-only channels."""
    return f"⚠️ {text}" if is_urgent(message_kwargs) and not text.startswith("⚠️") else text


def _urgent_numbers() -> str:
    """" If this is an emergency, call 999 now; to reach the clinic, call ...", for replies that skip the bot."""
    try:
        from bot.clinic_profile import clinic_profile

        profile = clinic_profile()
        return (f" If this is an emergency, call {profile.emergency_number} now; to reach the clinic, call "
                f"{profile.phone}.")
    except Exception as error:  # noqa: BLE001 - the reply must go out even without the clinic profile
        logger.warning("clinic profile unavailable for a canned reply: %s", error)
        return " If this is an emergency, call your local emergency number now."


def rate_limited_reply() -> str:
    """What a sender over the rate limit is told (once a minute), with the numbers to call if it is urgent."""
    return ("You are sending messages faster than I can answer, so I skipped your latest ones. Please wait a "
            "minute, then send your question again." + _urgent_numbers())


def too_long_reply() -> str:
    """What the sender of a message over CLINIC_MAX_MESSAGE_CHARS is told. The bot has not read it, so a red
    flag inside it would go unseen: the reply gives the numbers to call, as the rate-limit reply does."""
    return (f"That message is too long for me to read (more than {max_message_chars()} characters). Please send your "
            "question in a shorter message, or split it into a few." + _urgent_numbers())


def is_too_long(text: str | None) -> bool:
    return len(text or "") > max_message_chars()
