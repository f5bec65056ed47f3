"""WhatsApp through Meta's Cloud API (no Twilio): webhook verification handshake, X-Hub-Signature-256 checks,
reply buttons (or numbered options when they do not fit), 4096-character splitting.

credentials.yml names this class by module path: `bot.channels.whatsapp_cloud.WhatsAppCloudInput`.
Outgoing calls go to {WHATSAPP_GRAPH_API_URL}/{CLINIC_WHATSAPP_GRAPH_VERSION}/{phone_number_id}/messages
(default https://graph.facebook.com/v23.0/...; a WHATSAPP_GRAPH_API_URL that already ends in a version is
used as it is).

Conversations are `whatsapp:+<E.164 number>`. Each message id (wamid) is taken in once (recorded in the clinic
database), the notification is answered 200 at once and processed in the background in order per sender.
The same webhook carries delivery statuses: "failed" ones are recorded on the conversation and, for urgent
advice, reported to staff.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import feedback_prompt, ids
from bot.channels.common import last_answered_topic, last_offered_buttons, post
from bot.channels.delivery import DeliveryRecorder, report_undelivered, status_callback
from bot.channels.intake import ConversationQueues, is_new_delivery, oversized, within_rate_limit
from bot.channels.messages import (
    UNSUPPORTED_INPUT_REPLY,
    choose_option,
    is_too_long,
    mark_urgent,
    rate_limited_reply,
    split_message,
    too_long_reply,
    triage_level,
    with_numbered_options,
)
from bot.channels.settings import graph_version, sender_rate_limit
from bot.secret_compare import same_secret

logger = logging.getLogger(__name__)

DEFAULT_GRAPH_API_URL = "https://graph.facebook.com"
VERSIONED = re.compile(r"/v\d+(\.\d+)?/?$")
TEXT_LIMIT = 4096            # text message body
INTERACTIVE_BODY_LIMIT = 1024
MAX_REPLY_BUTTONS = 3
BUTTON_TITLE_LIMIT = 20
SIGNATURE_HEADER = "X-Hub-Signature-256"


def signature_for(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def graph_base_url(api_url: str | None = None) -> str:
    """The Graph API base with its version: WHATSAPP_GRAPH_API_URL (or graph.facebook.com) + the version."""
    base = (api_url or os.environ.get("WHATSAPP_GRAPH_API_URL") or DEFAULT_GRAPH_API_URL).rstrip("/")
    return base if VERSIONED.search(base) else f"{base}/{graph_version()}"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def fits_reply_buttons(buttons: list[dict[str, Any]]) -> bool:
    return 0 < len(buttons) <= MAX_REPLY_BUTTONS and all(
        0 < len(str(b.get("title", ""))) <= BUTTON_TITLE_LIMIT for b in buttons)


class WhatsAppCloudOutput(OutputChannel):
    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    def __init__(self, access_token: str, phone_number_id: str, api_url: str | None = None) -> None:
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.api_url = graph_base_url(api_url)
        self.recorder = DeliveryRecorder(self.name())

    @staticmethod
    def wa_id(recipient_id: str) -> str:
        """'whatsapp:+447700900123' -> '447700900123' (the form Meta gives and takes); a bare id is kept."""
        return recipient_id.removeprefix("whatsapp:").lstrip("+")

    async def send(self, recipient_id: str, message: dict[str, Any], level: str | None = None) -> None:
        to = self.wa_id(recipient_id)
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **message}
        url = f"{self.api_url}/{self.phone_number_id}/messages"
        await self.recorder.deliver(
            ids.conversation_id(self.name(), to),
            lambda: post(url, json=payload, headers={"Authorization": f"Bearer {self.access_token}"}),
            level=level, message_id=lambda answer: answer["messages"][0]["id"])

    def conversation(self, recipient_id: str) -> str:
        return ids.conversation_id(self.name(), self.wa_id(recipient_id))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        level = triage_level(kwargs)
        text = await feedback_prompt.with_prompt(self.conversation(recipient_id), text, kwargs)
        await self.send_plain(recipient_id, mark_urgent(text, kwargs), level)

    async def send_plain(self, recipient_id: str, text: str, level: str | None) -> None:
        for part in split_message(text, TEXT_LIMIT):
            await self.send(recipient_id, {"type": "text", "text": {"body": part, "preview_url": False}}, level)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        level = triage_level(kwargs)
        # the feedback prompt (first knowledge answer of the day) ends the text, above the options
        prompted = await feedback_prompt.with_prompt(self.conversation(recipient_id), text, kwargs)
        if not fits_reply_buttons(buttons):  # > 3 or long titles: numbered options, mapped back on input
            await self.send_plain(recipient_id, mark_urgent(with_numbered_options(prompted, buttons), kwargs), level)
            return
        parts = split_message(mark_urgent(prompted, kwargs), INTERACTIVE_BODY_LIMIT) or ["Choose an option:"]
        for part in parts[:-1]:
            await self.send(recipient_id, {"type": "text", "text": {"body": part}}, level)
        replies = [{"type": "reply", "reply": {"id": str(b.get("payload") or b["title"])[:256],
                                               "title": str(b["title"])}} for b in buttons]
        await self.send(recipient_id, {"type": "interactive", "interactive": {
            "type": "button", "body": {"text": parts[-1]}, "action": {"buttons": replies}}}, level)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await feedback_prompt.sent_without_prompt(self.conversation(recipient_id))
        await self.send(recipient_id, {"type": "image", "image": {"link": image}})


class WhatsAppCloudInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(credentials.get("access_token"), credentials.get("phone_number_id"),
                   credentials.get("verify_token"), credentials.get("app_secret"))

    def __init__(self, access_token: str | None, phone_number_id: str | None, verify_token: str | None,
                 app_secret: str | None, api_url: str | None = None) -> None:
        if not (access_token and phone_number_id and verify_token and app_secret):
            raise ValueError("WhatsApp Cloud API needs WHATSAPP_ACCESS_TOKEN, WHATSAPP_PHONE_NUMBER_ID, "
                             "WHATSAPP_VERIFY_TOKEN and WHATSAPP_APP_SECRET.")
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.verify_token = verify_token
        self.app_secret = app_secret
        self.api_url = api_url

    def get_output_channel(self) -> WhatsAppCloudOutput:
        return WhatsAppCloudOutput(self.access_token, self.phone_number_id, self.api_url)

    @staticmethod
    def incoming_messages(payload: dict[str, Any]) -> list[tuple[str, str | None, bool]]:
        """(sender, text, is_button_reply) per message of a webhook notification; text None = not text."""
        return [(sender, text, is_button)
                for sender, text, is_button, _ in WhatsAppCloudInput.incoming(payload)]

    @staticmethod
    def _changes(payload: dict[str, Any]) -> list[dict[str, Any]]:
        return [_dict(change.get("value")) for entry in _list(payload.get("entry"))
                for change in _list(_dict(entry).get("changes")) if isinstance(change, dict)]

    @staticmethod
    def incoming(payload: dict[str, Any]) -> list[tuple[str, str | None, bool, str | None]]:
        """(sender, text, is_button_reply, message id) per message; shapes that are not Meta's are skipped."""
        found = []
        for value in WhatsAppCloudInput._changes(payload):
            for message in _list(value.get("messages")):
                message = _dict(message)
                sender, kind, message_id = _text(message.get("from")), message.get("type"), message.get("id")
                if not sender:
                    continue
                message_id = _text(message_id)
                if kind == "text":
                    found.append((sender, _text(_dict(message.get("text")).get("body")), False, message_id))
                elif kind == "interactive":
                    interactive = _dict(message.get("interactive"))
                    reply = _dict(interactive.get("button_reply")) or _dict(interactive.get("list_reply"))
                    found.append((sender, _text(reply.get("id")) or _text(reply.get("title")), True, message_id))
                elif kind == "button":  # a template's quick-reply button
                    button = _dict(message.get("button"))
                    found.append((sender, _text(button.get("payload")) or _text(button.get("text")), True,
                                  message_id))
                elif kind == "reaction":
                    # a 👍/👎 reaction reads as the typed emoji (a rating when the feedback prompt is pending,
                    # bot/channels/feedback_prompt.py); other reactions, and a reaction taken back, get no reply
                    emoji = _text(_dict(message.get("reaction")).get("emoji"))
                    if feedback_prompt.thumb(emoji) is not None:
                        found.append((sender, emoji, False, message_id))
                else:  # image, sticker, audio, location, ...
                    found.append((sender, None, False, message_id))
        return found

    @staticmethod
    def statuses(payload: dict[str, Any]) -> list[tuple[str, str, str | None]]:
        """(message id, status, error) per delivery status of a notification (sent, delivered, read, failed)."""
        found = []
        for value in WhatsAppCloudInput._changes(payload):
            for status in _list(value.get("statuses")):
                status = _dict(status)
                message_id, state = _text(status.get("id")), _text(status.get("status"))
                if message_id and state:
                    errors = [_dict(e) for e in _list(status.get("errors"))]
                    error = "; ".join(f"{e.get('code')}: {e.get('title')}" for e in errors)[:300] or None
                    found.append((message_id, state, error))
        return found

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("clinic_whatsapp_cloud_webhook", __name__)
        queues = ConversationQueues()

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            """Meta's subscription handshake: echo hub.challenge when hub.verify_token is ours."""
            mode, token = request.args.get("hub.mode"), request.args.get("hub.verify_token") or ""
            if mode == "subscribe" and same_secret(token, self.verify_token):
                return response.text(request.args.get("hub.challenge", ""))
            return response.text("forbidden", status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            too_large = oversized(request)
            if too_large is not None:
                return too_large
            expected = signature_for(self.app_secret, request.body or b"")
            if not same_secret(request.headers.get(SIGNATURE_HEADER, ""), expected):
                logger.warning("WhatsApp Cloud webhook: request with a missing or wrong %s rejected",
                               SIGNATURE_HEADER)
                return response.text("forbidden", status=403)
            try:
                payload = request.json
            except Exception:
                payload = None
            if not isinstance(payload, dict):
                return response.text("expected a JSON notification", status=400)
            for message_id, state, error in self.statuses(payload):
                await status_callback(self.name(), message_id, state, error)
            metadata = self.get_metadata(request)
            for sender, text, is_button, message_id in self.incoming(payload):
                try:
                    conversation = ids.conversation_id(self.name(), sender)
                except ids.ConversationIdError:
                    logger.warning("WhatsApp Cloud: a message whose sender is not a phone number was skipped")
                    continue
                if not await is_new_delivery(self.name(), message_id):
                    logger.info("WhatsApp Cloud: message %s was already taken in; re-delivery acknowledged",
                                message_id)
                    continue
                allowed, tell = await within_rate_limit(self.name(), conversation, sender_rate_limit())
                if not allowed and not tell:
                    continue
                canned = rate_limited_reply() if not allowed else (None if text else UNSUPPORTED_INPUT_REPLY)
                if allowed and is_too_long(text):
                    canned = too_long_reply()
                queues.submit(conversation, self._processor(request, on_new_message, conversation, text,
                                                            is_button, canned, metadata))
            return response.text("ok")

        @webhook.listener("before_server_stop")
        async def finish(*_: Any) -> None:
            await queues.drain()

        return webhook

    def _processor(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]],
                   conversation: str, text: str | None, is_button: bool, canned: str | None,
                   metadata: dict | None) -> Callable[[], Awaitable[None]]:
        async def process() -> None:
            out_channel = self.get_output_channel()
            out_channel.recorder.raise_failures = False  # record, then go on with the turn
            try:
                if canned is not None:
                    await out_channel.send_text_message(conversation, canned)
                    return
                rating = None if is_button else await feedback_prompt.rating_reply(conversation, text)
                if rating is not None:  # 👍 / 👎 right after the feedback prompt
                    chosen = feedback_prompt.rating_payload(rating, await last_answered_topic(request, conversation))
                else:
                    chosen = text if is_button else (
                        choose_option(text, await last_offered_buttons(request, conversation)) or text)
                await on_new_message(UserMessage(chosen, out_channel, conversation, input_channel=self.name(),
                                                 metadata=metadata))
            finally:
                await report_undelivered(out_channel.recorder)

        return process
