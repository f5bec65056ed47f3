"""WhatsApp through Twilio: Rasa's Twilio connector plus X-Twilio-Signature checks, 1600-character splitting,
numbered options instead of buttons ("reply 2"), and a configurable API base URL (TWILIO_API_URL) for tests.

credentials.yml names this class by module path: `bot.channels.twilio_whatsapp.ClinicTwilioWhatsAppInput`.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot.channels.common import last_offered_buttons, post
from bot.channels.messages import (
    UNSUPPORTED_INPUT_REPLY,
    choose_option,
    mark_urgent,
    message_limit,
    split_message,
    with_numbered_options,
)

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.twilio.com"
MESSAGE_LIMIT = 1600   # Twilio: a message body longer than 1600 characters is refused
SIGNATURE_HEADER = "X-Twilio-Signature"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def whatsapp_address(number: str) -> str:
    """'+14155238886' -> 'whatsapp:+14155238886' (an address that already has the prefix is kept)."""
    number = number.strip()
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


class FormParams(dict):
    """Sanic's form (name -> list of values) in the shape RequestValidator reads: names, and getall()."""

    def getall(self, name: str) -> list[str]:
        return list(self[name])


class ClinicTwilioWhatsAppOutput(OutputChannel):
    """Posts to Twilio's Messages resource; non-blocking (Rasa's TwilioOutput blocks the event loop)."""

    @classmethod
    def name(cls) -> str:
        return "twilio"

    def __init__(self, account_sid: str, auth_token: str, from_number: str,
                 api_url: str | None = None) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.from_number = whatsapp_address(from_number)
        self.api_url = (api_url or os.environ.get("TWILIO_API_URL") or DEFAULT_API_URL).rstrip("/")
        self.limit = message_limit(MESSAGE_LIMIT, "TWILIO_MESSAGE_LIMIT")

    async def send_body(self, recipient_id: str, body: str, media_url: str | None = None) -> None:
        form = {"To": whatsapp_address(recipient_id), "From": self.from_number, "Body": body}
        if media_url:
            form["MediaUrl"] = media_url
        await post(f"{self.api_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json", data=form,
                   auth=aiohttp.BasicAuth(self.account_sid, self.auth_token))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_message(mark_urgent(text, kwargs), self.limit):
            await self.send_body(recipient_id, part)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        # WhatsApp via Twilio has no free-form buttons: offer numbered options; the input maps "2" back.
        await self.send_text_message(recipient_id, with_numbered_options(text, buttons), **kwargs)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send_body(recipient_id, "", media_url=image)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        if json_message.get("text") or json_message.get("body"):
            await self.send_text_message(recipient_id, json_message.get("text") or json_message["body"])


class ClinicTwilioWhatsAppInput(TwilioInput):
    """Accepts only requests signed by Twilio for the public webhook URL (TWILIO_WEBHOOK_URL)."""

    @classmethod
    def name(cls) -> str:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(credentials.get("account_sid"), credentials.get("auth_token"),
                   credentials.get("twilio_number"), webhook_url=credentials.get("webhook_url"))

    def __init__(self, account_sid: str | None, auth_token: str | None, twilio_number: str | None,
                 debug_mode: bool = False, webhook_url: str | None = None,
                 api_url: str | None = None) -> None:
        super().__init__(account_sid, auth_token, twilio_number, debug_mode=debug_mode)
        if not (account_sid and auth_token and twilio_number and webhook_url):
            raise ValueError("WhatsApp via Twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, "
                             "TWILIO_WHATSAPP_NUMBER and TWILIO_WEBHOOK_URL (the public URL Twilio calls).")
        self.webhook_url = webhook_url
        self.api_url = api_url
        self.validator = RequestValidator(auth_token)

    def get_output_channel(self) -> ClinicTwilioWhatsAppOutput:
        return ClinicTwilioWhatsAppOutput(self.account_sid, self.auth_token, self.twilio_number, self.api_url)

    def signed_url(self, request: Request) -> str:
        """The URL Twilio signed: the public webhook URL (behind a tunnel or proxy request.url is local)."""
        if request.query_string and "?" not in self.webhook_url:
            return f"{self.webhook_url}?{request.query_string}"
        return self.webhook_url

    def is_signed_by_twilio(self, request: Request) -> bool:
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            return False
        return self.validator.validate(self.signed_url(request), FormParams(request.form), signature)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        twilio_webhook = Blueprint("clinic_twilio_webhook", __name__)

        @twilio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @twilio_webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            if not self.is_signed_by_twilio(request):
                logger.warning("Twilio webhook: request with a missing or wrong %s rejected (the signed URL "
                               "must be TWILIO_WEBHOOK_URL=%s)", SIGNATURE_HEADER, self.webhook_url)
                return response.text("forbidden", status=403)
            sender = request.form.get("From")
            if not sender:
                return response.text("missing From", status=400)
            text = (request.form.get("Body") or "").strip()
            out_channel = self.get_output_channel()
            try:
                if not text:  # a photo, voice note, sticker or location without words
                    await out_channel.send_text_message(sender, UNSUPPORTED_INPUT_REPLY)
                else:
                    chosen = choose_option(text, await last_offered_buttons(request, sender))
                    await on_new_message(UserMessage(chosen or text, out_channel, sender,
                                                     input_channel=self.name(),
                                                     metadata=self.get_metadata(request)))
            except Exception:
                logger.exception("Twilio: handling the message from %s failed", sender)
                if self.debug_mode:
                    raise
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return twilio_webhook
