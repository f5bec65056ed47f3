"""Talk to a running bot over its REST channel: blocking calls for tests, an aiohttp client for load."""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import requests

REST_PATH = "/webhooks/rest/webhook"


def new_sender(prefix: str = "test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def say(rasa_url: str, sender: str, message: str, timeout: float = 60) -> list[dict]:
    """POST one message to /webhooks/rest/webhook and return the bot's replies."""
    response = requests.post(f"{rasa_url}{REST_PATH}", json={"sender": sender, "message": message},
                             timeout=timeout)
    response.raise_for_status()
    return response.json()


def reply_text(replies: list[dict]) -> str:
    """All reply texts joined, for assertions on content."""
    return "\n".join(reply.get("text") or "" for reply in replies)


@dataclass
class Reply:
    """One timed REST exchange: the replies (empty on error), seconds taken, and what went wrong if anything."""

    replies: list[dict]
    seconds: float
    error: str | None = None


async def say_async(session, rasa_url: str, sender: str, message: str, timeout: float = 60) -> Reply:
    """The aiohttp version of `say`, timed; a non-200 answer or a network error is an error."""
    import aiohttp

    start = time.perf_counter()
    try:
        async with session.post(f"{rasa_url}{REST_PATH}", json={"sender": sender, "message": message},
                                timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            body = await response.json(content_type=None) if response.status == 200 else None
            seconds = time.perf_counter() - start
            if response.status != 200:
                return Reply([], seconds, f"HTTP {response.status}")
            return Reply(body or [], seconds)  # an empty list is a valid answer (the bot chose to say nothing)
    except (aiohttp.ClientError, TimeoutError) as error:
        return Reply([], time.perf_counter() - start, f"{type(error).__name__}: {error}")
