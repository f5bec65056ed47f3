"""How a webhook takes a message in: size check, de-duplication, per-sender rate limit, then processing in
the background in arrival order per conversation, so the platform gets its 200 at once.

Telegram, Twilio and Meta deliver at least once: when the answer is slow or fails they send the same message
again (Twilio waits about 15 s, Meta re-delivers for days). Answering before the bot has thought keeps within
every platform's time limit, and the delivery id recorded in the shared database (bot/channels/store.py)
makes the re-delivery a no-op on whichever Rasa server receives it.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import ratelimit, store
from bot.channels.settings import webhook_max_bytes

logger = logging.getLogger(__name__)
Job = Callable[[], Awaitable[None]]
DRAIN_SECONDS = 20.0


def oversized(request: Request, limit: int | None = None) -> HTTPResponse | None:
    """A clear 413 when the body is larger than CLINIC_WEBHOOK_MAX_BYTES; None when it fits."""
    limit = limit or webhook_max_bytes()
    declared = request.headers.get("content-length")
    size = len(request.body or b"")
    if (declared and declared.isdigit() and int(declared) > limit) or size > limit:
        return response.text(f"request body too large: at most {limit} bytes are accepted here", status=413)
    return None


def is_storable_text(*values: str) -> bool:
    """False when a value holds a lone surrogate (JSON "\\ud800", or its raw bytes, which json.loads lets
    through): the conversation log cannot store it, so the person would get a reply to a message the log never
    holds. Connectors refuse such a message clearly instead."""
    try:
        for value in values:
            value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class ConversationQueues:
    """One worker per conversation with pending messages: messages of a conversation run one after another,
    in arrival order; different conversations run side by side. A worker ends when its queue is empty."""

    def __init__(self) -> None:
        self._queues: dict[str, asyncio.Queue] = {}
        self._workers: dict[str, asyncio.Task] = {}

    def submit(self, conversation_id: str, job: Job) -> None:
        queue = self._queues.get(conversation_id)
        if queue is None:
            queue = self._queues[conversation_id] = asyncio.Queue()
            self._workers[conversation_id] = asyncio.get_running_loop().create_task(
                self._work(conversation_id, queue))
        queue.put_nowait(job)

    async def _work(self, conversation_id: str, queue: asyncio.Queue) -> None:
        try:
            while not queue.empty():
                job = queue.get_nowait()
                try:
                    await job()
                except Exception:  # noqa: BLE001 - one failed message must not stop the conversation's next
                    logger.exception("handling a message of conversation %s failed", conversation_id)
        finally:
            self._queues.pop(conversation_id, None)
            self._workers.pop(conversation_id, None)

    @property
    def pending(self) -> int:
        return sum(queue.qsize() for queue in self._queues.values()) + len(self._workers)

    async def drain(self, timeout: float = DRAIN_SECONDS) -> None:
        """Wait (bounded) for the messages already taken in, e.g. before the server stops."""
        workers = list(self._workers.values())
        if workers:
            logger.info("waiting up to %.0f s for %d conversation(s) still being answered", timeout, len(workers))
            await asyncio.wait(workers, timeout=timeout)


async def is_new_delivery(channel: str, delivery_id: str | None) -> bool:
    """False for a delivery id already seen by any server. Without an id, or when the database cannot be
    reached, the message counts as new: a duplicate reply is better than a lost one."""
    if not delivery_id:
        return True
    try:
        return await asyncio.to_thread(store.claim_delivery, channel, str(delivery_id))
    except Exception as error:  # noqa: BLE001 - fail open, loudly
        logger.error("%s: de-duplication unavailable (%s: %s); delivery %s processed", channel,
                     type(error).__name__, error, delivery_id)
        return True


async def within_rate_limit(scope: str, conversation_id: str, spec: str) -> tuple[bool, bool]:
    """(allowed, tell the sender) for one message; the sender is told once a minute while over the limit."""
    allowed = await asyncio.to_thread(ratelimit.allow, scope, conversation_id, spec)
    if allowed:
        return True, False
    logger.warning("%s: conversation %s is over its rate limit (%s); message skipped", scope, conversation_id,
                   spec)
    return False, await asyncio.to_thread(ratelimit.first_notice, scope, conversation_id)
