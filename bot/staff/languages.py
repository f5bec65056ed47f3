"""The conversations area's language filter and column: the language the detector stored in each user message's
parse data (bot/nlp/language_detector.py), read from the conversation log (Rasa's `events`)."""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from bot.staff.summaries import EVENTS

# The filter's choices: the supported languages and "other" (anything else the detector named, e.g. fr).
LANGUAGE_CHOICES = (("en", "English"), ("zh-Hant", "繁體中文 (zh-Hant)"), ("zh-Hans", "简体中文 (zh-Hans)"),
                    ("es", "Español (es)"))
_CODE = re.compile(r'"language":\s*"([A-Za-z-]{2,8})"')


def _pattern(code: str) -> str:
    return f'%"language": "{code}"%'  # how Rasa's json.dumps writes the parse data key


def language_condition(code: str, sender_column: Any) -> Any | None:
    """Conversations with at least one user message detected in this language; None for an unknown code."""
    if code not in {c for c, _ in LANGUAGE_CHOICES}:
        return None
    return sender_column.in_(select(EVENTS.c.sender_id).where(and_(
        EVENTS.c.type_name == "user", EVENTS.c.data.like(_pattern(code)))))


def languages_of(conn: Connection, senders: Iterable[str]) -> dict[str, list[str]]:
    """The languages of each conversation's user messages, most frequent first ("und" left out)."""
    senders = list(senders)
    found: dict[str, dict[str, int]] = {s: {} for s in senders}
    if not senders:
        return {}
    rows = conn.execute(select(EVENTS.c.sender_id, EVENTS.c.data).where(
        and_(EVENTS.c.sender_id.in_(senders), EVENTS.c.type_name == "user")))
    for sender, data in rows:
        match = _CODE.search(data or "")
        if match and match.group(1) != "und":
            counts = found[sender]
            counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    return {s: sorted(c, key=lambda k: -c[k]) for s, c in found.items()}
