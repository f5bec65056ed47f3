"""Talk to a running bot over its REST channel: the helpers live in bot/devtools/rest.py (shared with bench/)."""
from __future__ import annotations

from bot.devtools.rest import new_sender, reply_text, say

__all__ = ["new_sender", "reply_text", "rest_conversation", "say"]


def rest_conversation(sender: str) -> str:
    """The conversation id a REST sender's messages are stored under: `rest:<sender>` (docs/channels.md)."""
    return f"rest:{sender}"
