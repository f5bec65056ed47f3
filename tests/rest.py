"""Talk to a running bot over its REST channel, as the tests and benchmarks do."""
from __future__ import annotations

import uuid

import requests


def new_sender(prefix: str = "test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def say(rasa_url: str, sender: str, message: str, timeout: float = 60) -> list[dict]:
    """POST one message to /webhooks/rest/webhook and return the bot's replies."""
    response = requests.post(f"{rasa_url}/webhooks/rest/webhook",
                             json={"sender": sender, "message": message}, timeout=timeout)
    response.raise_for_status()
    return response.json()


def reply_text(replies: list[dict]) -> str:
    """All reply texts joined, for assertions on content."""
    return "\n".join(reply.get("text") or "" for reply in replies)
