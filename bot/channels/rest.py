"""REST for tests, scripts and trusted integrations: Rasa's RestInput with its own conversation namespace.

POST {"sender": "me", "message": "do heel lifts help?"} to /webhooks/rest/webhook and get the bot's replies,
as with Rasa's connector. The difference is where the message lands: in `rest:me`. A caller who sends
"sender": "+447700900123" or "whatsapp:+447700900123" talks in `rest:whatsapp:+447700900123`, never in the
WhatsApp patient's conversation; and `input_channel` in the body is ignored (it is always "rest"), so a
REST message cannot pass for another channel's in the log. Replies name the caller's own plain sender.

The body must be a JSON object with a string (or number) sender of at most 128 characters and a string
message; anything else is a clear 400, a body over CLINIC_WEBHOOK_MAX_BYTES or a message over
CLINIC_MAX_MESSAGE_CHARS a 413 (the message is not read, so nothing is stored), and a sender over
CLINIC_REST_RATE_LIMIT (off by default) a 429.

credentials.yml names this class by module path: `bot.channels.rest.ClinicRestInput`.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import ids
from bot.channels.intake import is_storable_text, oversized, within_rate_limit
from bot.channels.messages import is_too_long, too_long_reply
from bot.channels.settings import max_message_chars, rest_rate_limit

logger = logging.getLogger(__name__)
MAX_SENDER = 128


def bad_request(message: str) -> HTTPResponse:
    return response.json({"error": message}, status=400)


def read_message(request: Request) -> tuple[str, str, dict | None] | HTTPResponse:
    """(sender, message, metadata) of a REST request, or the 400 that explains what is wrong with it."""
    try:
        body = request.json
    except Exception:  # sanic raises InvalidUsage on malformed JSON
        return bad_request("the body must be JSON: {\"sender\": \"...\", \"message\": \"...\"}")
    if not isinstance(body, dict):
        return bad_request("the body must be a JSON object with sender and message")
    sender, message, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if isinstance(sender, bool) or not isinstance(sender, (str, int)) or not str(sender).strip():
        return bad_request("sender must be a non-empty string")
    sender = str(sender).strip()
    if len(sender) > MAX_SENDER:
        return bad_request(f"sender must be at most {MAX_SENDER} characters")
    if not isinstance(message, str):
        return bad_request("message must be a string")
    if is_too_long(message):
        return response.json({"error": f"message too long: at most {max_message_chars()} characters",
                              "reply": too_long_reply()}, status=413)
    if metadata is not None and not isinstance(metadata, dict):
        return bad_request("metadata, when given, must be a JSON object")
    if not is_storable_text(sender, message, json.dumps(metadata, ensure_ascii=False)):
        return bad_request("sender, message and metadata must be valid Unicode text (no lone surrogates)")
    return sender, message, metadata



class PlainSenderCollector(CollectingOutputChannel):
    """Collects the replies for the HTTP answer, addressed to the caller's plain sender (not `rest:...`)."""

    @classmethod
    def name(cls) -> str:
        return "collector"

    async def _persist_message(self, message: dict[str, Any]) -> None:
        recipient = message.get("recipient_id")
        if isinstance(recipient, str):
            message["recipient_id"] = recipient.removeprefix("rest:")
        await super()._persist_message(message)


class ClinicRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint("clinic_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            too_large = oversized(request)
            if too_large is not None:
                return too_large
            parsed = read_message(request)
            if isinstance(parsed, HTTPResponse):
                return parsed
            sender, text, metadata = parsed
            conversation = ids.conversation_id(self.name(), sender)
            allowed, _ = await within_rate_limit(self.name(), conversation, rest_rate_limit())
            if not allowed:
                return response.json({"error": "too many messages from this sender; wait a minute"},
                                     status=429, headers={"Retry-After": "60"})
            collector = PlainSenderCollector()
            try:
                await on_new_message(UserMessage(text, collector, conversation, input_channel=self.name(),
                                                 metadata=metadata))
            except asyncio.CancelledError:
                logger.error("REST: handling a message of %s timed out", conversation)
            except Exception:  # noqa: BLE001 - the caller gets what was collected; the error is logged
                logger.exception("REST: handling a message of %s failed", conversation)
            return response.json(collector.messages)

        return webhook
