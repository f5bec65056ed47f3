"""WhatsApp through Meta's Cloud API (no Twilio): webhook verification handshake, X-Hub-Signature-256 checks,
reply buttons (or numbered options when they do not fit), 4096-character splitting.

credentials.yml names this class by module path: `bot.channels.whatsapp_cloud.WhatsAppCloudInput`.
Outgoing calls go to {WHATSAPP_GRAPH_API_URL}/{phone_number_id}/messages (default graph.facebook.com/v19.0).
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.common import last_offered_buttons, post
from bot.channels.messages import (
    UNSUPPORTED_INPUT_REPLY,
    choose_option,
    mark_urgent,
    split_message,
    with_numbered_options,
)

logger = logging.getLogger(__name__)

DEFAULT_GRAPH_API_URL = "https://graph.facebook.com/v19.0"
TEXT_LIMIT = 4096            # text message body
INTERACTIVE_BODY_LIMIT = 1024
MAX_REPLY_BUTTONS = 3
BUTTON_TITLE_LIMIT = 20
SIGNATURE_HEADER = "X-Hub-Signature-256"


def signature_for(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


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
        base = api_url or os.environ.get("WHATSAPP_GRAPH_API_URL") or DEFAULT_GRAPH_API_URL
        self.api_url = base.rstrip("/")

    async def send(self, recipient_id: str, message: dict[str, Any]) -> None:
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": recipient_id,
                   **message}
        await post(f"{self.api_url}/{self.phone_number_id}/messages", json=payload,
                   headers={"Authorization": f"Bearer {self.access_token}"})

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_message(mark_urgent(text, kwargs), TEXT_LIMIT):
            await self.send(recipient_id, {"type": "text", "text": {"body": part, "preview_url": False}})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        if not fits_reply_buttons(buttons):  # > 3 or long titles: numbered options, mapped back on input
            await self.send_text_message(recipient_id, with_numbered_options(text, buttons), **kwargs)
            return
        parts = split_message(mark_urgent(text, kwargs), INTERACTIVE_BODY_LIMIT) or ["Choose an option:"]
        for part in parts[:-1]:
            await self.send(recipient_id, {"type": "text", "text": {"body": part}})
        replies = [{"type": "reply", "reply": {"id": str(b.get("payload") or b["title"])[:256],
                                               "title": str(b["title"])}} for b in buttons]
        await self.send(recipient_id, {"type": "interactive", "interactive": {
            "type": "button", "body": {"text": parts[-1]}, "action": {"buttons": replies}}})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
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
        found = []
        for entry in payload.get("entry") or []:
            for change in entry.get("changes") or []:
                for message in (change.get("value") or {}).get("messages") or []:
                    sender, kind = message.get("from"), message.get("type")
                    if not sender:
                        continue
                    if kind == "text":
                        found.append((sender, (message.get("text") or {}).get("body"), False))
                    elif kind == "interactive":
                        interactive = message.get("interactive") or {}
                        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
                        found.append((sender, reply.get("id") or reply.get("title"), True))
                    elif kind == "button":  # a template's quick-reply button
                        button = message.get("button") or {}
                        found.append((sender, button.get("payload") or button.get("text"), True))
                    else:  # image, sticker, audio, location, reaction, ...
                        found.append((sender, None, False))
        return found  # status updates (sent/delivered/read) carry no messages

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("clinic_whatsapp_cloud_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            """Meta's subscription handshake: echo hub.challenge when hub.verify_token is ours."""
            mode, token = request.args.get("hub.mode"), request.args.get("hub.verify_token") or ""
            if mode == "subscribe" and hmac.compare_digest(token.encode(), self.verify_token.encode()):
                return response.text(request.args.get("hub.challenge", ""))
            return response.text("forbidden", status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            expected = signature_for(self.app_secret, request.body or b"")
            if not hmac.compare_digest(request.headers.get(SIGNATURE_HEADER, "").encode(), expected.encode()):
                logger.warning("WhatsApp Cloud webhook: request with a missing or wrong %s rejected",
                               SIGNATURE_HEADER)
                return response.text("forbidden", status=403)
            try:
                payload = request.json
            except Exception:
                payload = None
            if not isinstance(payload, dict):
                return response.text("expected a JSON notification", status=400)
            out_channel = self.get_output_channel()
            for sender, text, is_button in self.incoming_messages(payload):
                try:
                    if not text:
                        await out_channel.send_text_message(sender, UNSUPPORTED_INPUT_REPLY)
                        continue
                    if not is_button:
                        text = choose_option(text, await last_offered_buttons(request, sender)) or text
                    await on_new_message(UserMessage(text, out_channel, sender, input_channel=self.name(),
                                                     metadata=self.get_metadata(request)))
                except Exception:
                    # 200 anyway: Meta re-delivers a failed notification for days.
                    logger.exception("WhatsApp Cloud: handling the message from %s failed", sender)
            return response.text("ok")

        return webhook
