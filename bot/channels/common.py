"""What the clinic's connectors share: the last offered options, and posting to platform APIs with retries.

Outgoing calls retry a 429, a 5xx or a broken connection with exponential backoff (aiohttp-retry), honouring
the platform's wait (a `Retry-After` header, or Telegram's `parameters.retry_after`), a bounded number of times
(CLINIC_SEND_ATTEMPTS, CLINIC_SEND_MAX_WAIT). A call that still fails raises ChannelAPIError, which the
output channels record on the conversation (bot/channels/delivery.py).
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import aiohttp
from aiohttp_retry import ExponentialRetry, RetryClient
from sanic.request import Request

from bot.channels.feedback_prompt import answered_topic
from bot.channels.messages import offered_buttons
from bot.channels.settings import send_attempts, send_max_wait

logger = logging.getLogger(__name__)
TIMEOUT = aiohttp.ClientTimeout(total=15)   # per attempt
RETRY_STATUSES = {429}                       # and every 5xx (retry_all_server_errors)
FIRST_BACKOFF = 0.5                          # seconds; then 1, 2, 4 ... up to CLINIC_SEND_MAX_WAIT


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


async def last_answered_topic(request: Request, sender_id: str) -> str | None:
    """The topic of the bot's latest message to `sender_id` when it was a knowledge answer (tracker store)."""
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return None
    try:
        tracker = await agent.tracker_store.retrieve(sender_id)
    except Exception as error:  # noqa: BLE001 - the rating still counts; the action finds the latest answer
        logger.warning("tracker store unavailable for the rated answer's topic: %s", error)
        return None
    return answered_topic(tracker.events) if tracker is not None else None


class ChannelAPIError(RuntimeError):
    """A messaging platform refused or failed a call; the message names the endpoint and the answer."""

    def __init__(self, message: str, status: int | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.status = status
        self.attempts = attempts


class PlatformRetry(ExponentialRetry):
    """Exponential backoff that waits what the platform asked for when it said (Retry-After, retry_after).

    aiohttp-retry calls `evaluate_response_callback` for every answer but the last attempt's; it decides here:
    a 429 or 5xx is retried (after reading the asked-for wait), anything else is final.
    """

    def __init__(self, attempts: int, max_wait: float) -> None:
        super().__init__(attempts=attempts, start_timeout=FIRST_BACKOFF / 2, max_timeout=max_wait,
                         statuses=set(), retry_all_server_errors=False,
                         exceptions={aiohttp.ClientConnectionError, asyncio.TimeoutError},
                         evaluate_response_callback=self._is_final)
        self.max_wait = max_wait
        self.tries = 0
        self.asked_wait: float | None = None

    async def _is_final(self, response: aiohttp.ClientResponse) -> bool:
        if response.status not in RETRY_STATUSES and response.status < 500:
            return True
        try:
            body = await response.json(content_type=None)
        except (ValueError, aiohttp.ClientError):
            body = None
        asked = retry_after(response.headers, body)
        if asked is not None and asked > self.max_wait:
            logger.warning("platform asked to wait %.0f s (more than CLINIC_SEND_MAX_WAIT=%.0f): not retried",
                           asked, self.max_wait)
            return True
        self.asked_wait = asked
        return False

    def get_timeout(self, attempt: int, response: aiohttp.ClientResponse | None = None) -> float:
        asked, self.asked_wait = self.asked_wait, None
        if asked is not None:
            return min(asked, self.max_wait)
        return super().get_timeout(attempt, response)


def retry_after(headers: Any, body: Any) -> float | None:
    """The wait a platform asked for: Telegram's parameters.retry_after, else a numeric Retry-After header."""
    if isinstance(body, dict):
        parameters = body.get("parameters")
        if isinstance(parameters, dict) and isinstance(parameters.get("retry_after"), (int, float)):
            return max(0.0, float(parameters["retry_after"]))
    header = headers.get("Retry-After") if headers is not None else None
    if header and str(header).strip().isdigit():
        return float(header)
    return None


async def post(url: str, *, json: dict | None = None, data: dict | None = None,
               headers: dict[str, str] | None = None, auth: aiohttp.BasicAuth | None = None) -> dict:
    """POST to a platform API and return its JSON answer, retrying 429/5xx/connection errors (bounded).

    Raises ChannelAPIError when the platform refuses (4xx) or still fails after the last attempt; a wait
    asked for that is longer than CLINIC_SEND_MAX_WAIT is not waited for (the call fails at once).
    """
    options = PlatformRetry(send_attempts(), send_max_wait())

    async def count_attempt(*_args: Any) -> None:
        options.tries += 1

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(count_attempt)
    try:
        async with RetryClient(retry_options=options, raise_for_status=False, timeout=TIMEOUT,
                               trace_configs=[trace]) as client:
            async with client.post(url, json=json, data=data, headers=headers, auth=auth) as response:
                body = await response.text()
                if response.status >= 400:
                    raise ChannelAPIError(f"POST {redact(url)} answered {response.status} after "
                                          f"{options.tries} attempt(s): {body[:300]}",
                                          status=response.status, attempts=options.tries)
                try:
                    return await response.json(content_type=None)
                except ValueError:
                    return {"raw": body}
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        raise ChannelAPIError(f"POST {redact(url)} failed after {options.tries} attempt(s): "
                              f"{type(error).__name__}: {error}", attempts=options.tries) from error


def redact(url: str) -> str:
    """Hide a Telegram bot token in a URL before it reaches a log line."""
    return re.sub(r"/bot[^/]+/", "/bot<token>/", url)
