"""Talk to a running bot over its REST channel: the helpers live in bot/devtools/rest.py (shared with bench/)."""
from __future__ import annotations

from bot.devtools.rest import new_sender, reply_text, say

__all__ = ["new_sender", "reply_text", "say"]
