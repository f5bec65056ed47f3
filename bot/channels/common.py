"""What the clinic's connectors share: the last offered options, and posting to platform APIs."""
from __future__ import annotations

import logging
from typing import Any

import aiohttp
from sanic.request import Request

from bot.channels.messages import offered_buttons

logger = logging.getLogger(__name__)
TIMEOUT = aiohttp.ClientTimeout(total=30)


async def last_offered_buttons(request: Request, sender_id: str) -> list[dict[str, Any]] | None:
    """The buttons the bot offered in its latest turn to `sender_id`, read from the tracker store (SQL log).

    Reading the conversation log instead of process memory keeps the "reply 2" mapping across restarts and
    across several Rasa servers sharing one tracker store.
    """
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return None
    tracker = await agent.tracker_store.retrieve(sender_id)
    return offered_buttons(tracker.events) if tracker is not None else None


class ChannelAPIError(RuntimeError):
    """A messaging platform refused or failed a call; the message names the endpoint and the answer."""


async def post(url: str, *, json: dict | None = None, data: dict | None = None,
               headers: dict[str, str] | None = None, auth: aiohttp.BasicAuth | None = None) -> dict:
    """POST to a platform API and return its JSON answer; raise ChannelAPIError on an HTTP error."""
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        async with session.post(url, json=json, data=data, headers=headers, auth=auth) as response:
            body = await response.text()
            if response.status >= 400:
                raise ChannelAPIError(f"POST {redact(url)} answered {response.status}: {body[:500]}")
            try:
                return await response.json(content_type=None)
            except ValueError:
                return {"raw": body}


def redact(url: str) -> str:
    """Hide a Telegram bot token in a URL before it reaches a log line."""
    import re

    return re.sub(r"/bot[^/]+/", "/bot<token>/", url)
