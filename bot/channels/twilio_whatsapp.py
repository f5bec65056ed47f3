"""WhatsApp through Twilio: Rasa's Twilio connector plus X-Twilio-Signature checks, 1600-character splitting,
numbered options instead of buttons ("reply 2"), and a configurable API base URL (TWILIO_API_URL) for tests.

credentials.yml names this class by module path: `bot.channels.twilio_whatsapp.ClinicTwilioWhatsAppInput`.

Conversations are `twilio:+<E.164 number>`. Each MessageSid is taken in once (recorded in the clinic database),
answered with empty TwiML at once (Twilio waits about 15 s) and processed in the background in order per
sender. Outgoing messages ask Twilio for status callbacks at `.../webhooks/twilio/status` (signed like the
webhook); "failed" and "undelivered" are recorded on the conversation, and reported to staff for urgent advice.
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

from bot.channels import feedback_prompt, ids
from bot.channels.common import last_answered_topic, last_offered_buttons, post
from bot.channels.delivery import DeliveryRecorder, report_undelivered, status_callback
from bot.channels.intake import ConversationQueues, is_new_delivery, oversized, within_rate_limit
from bot.channels.messages import (
    UNSUPPORTED_INPUT_REPLY,
    choose_option,
    is_too_long,
    mark_urgent,
    message_limit,
    rate_limited_reply,
    split_message,
    too_long_reply,
    triage_level,
    with_numbered_options,
)
from bot.channels.settings import sender_rate_limit

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.twilio.com"
MESSAGE_LIMIT = 1600   # Twilio: a message body longer than 1600 characters is refused
SIGNATURE_HEADER = "X-Twilio-Signature"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def whatsapp_address(number: str) -> str:
    """'+14155238886' -> 'whatsapp:+14155238886' (an address that already has the prefix is kept)."""
    number = number.strip().removeprefix("twilio:")
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


def not_a_form(request: Request) -> HTTPResponse | None:
    """A clear 400 for a body Twilio would never send: not a UTF-8 form (Sanic would log a traceback parsing it)."""
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    try:
        (request.body or b"").decode("utf-8")
    except UnicodeDecodeError:
        content_type = ""
    if content_type != "application/x-www-form-urlencoded":
        return response.text("expected a form (application/x-www-form-urlencoded, UTF-8)", status=400)
    return None


def status_callback_url(webhook_url: str) -> str:
    """Where Twilio posts delivery statuses: the webhook URL with /status instead of /webhook."""
    base = webhook_url.split("?")[0].rstrip("/")
    return (base[: -len("/webhook")] if base.endswith("/webhook") else base) + "/status"


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
                 api_url: str | None = None, status_callback: str | None = None) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.from_number = whatsapp_address(from_number)
        self.api_url = (api_url or os.environ.get("TWILIO_API_URL") or DEFAULT_API_URL).rstrip("/")
        self.limit = message_limit(MESSAGE_LIMIT, "TWILIO_MESSAGE_LIMIT")
        self.status_callback = status_callback
        self.recorder = DeliveryRecorder(self.name())

    async def send_body(self, recipient_id: str, body: str, media_url: str | None = None,
                        level: str | None = None) -> None:
        to = whatsapp_address(recipient_id)
        form = {"To": to, "From": self.from_number, "Body": body}
        if media_url:
            form["MediaUrl"] = media_url
        if self.status_callback:
            form["StatusCallback"] = self.status_callback
        url = f"{self.api_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        conversation = ids.conversation_id(self.name(), to)
        await self.recorder.deliver(
            conversation, lambda: post(url, data=form, auth=aiohttp.BasicAuth(self.account_sid, self.auth_token)),
            level=level, message_id=lambda answer: answer["sid"])

    def conversation(self, recipient_id: str) -> str:
        return ids.conversation_id(self.name(), whatsapp_address(recipient_id))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_text(recipient_id, text, [], kwargs)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        # WhatsApp via Twilio has no free-form buttons: offer numbered options; the input maps "2" back.
        await self.send_text(recipient_id, text, buttons, kwargs)

    async def send_text(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                        kwargs: dict[str, Any]) -> None:
        """The text, the feedback prompt (first knowledge answer of the day), the numbered options; split."""
        level = triage_level(kwargs)
        prompted = await feedback_prompt.with_prompt(self.conversation(recipient_id), text, kwargs)
        for part in split_message(mark_urgent(with_numbered_options(prompted, buttons), kwargs), self.limit):
            await self.send_body(recipient_id, part, level=level)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await feedback_prompt.sent_without_prompt(self.conversation(recipient_id))
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
        return ClinicTwilioWhatsAppOutput(self.account_sid, self.auth_token, self.twilio_number, self.api_url,
                                          status_callback=status_callback_url(self.webhook_url))

    def signed_url(self, request: Request, public_url: str | None = None) -> str:
        """The URL Twilio signed: the public webhook URL (behind a tunnel or proxy request.url is local)."""
        public_url = public_url or self.webhook_url
        if request.query_string and "?" not in public_url:
            return f"{public_url}?{request.query_string}"
        return public_url

    def is_signed_by_twilio(self, request: Request, public_url: str | None = None) -> bool:
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature:
            return False
        try:
            form = FormParams(request.form)
        except Exception:  # noqa: BLE001 - a body that is not a form cannot carry Twilio's signature
            return False
        return self.validator.validate(self.signed_url(request, public_url), form, signature)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        twilio_webhook = Blueprint("clinic_twilio_webhook", __name__)
        queues = ConversationQueues()

        @twilio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @twilio_webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            refused = oversized(request) or not_a_form(request)
            if refused is not None:
                return refused
            if not self.is_signed_by_twilio(request):
                logger.warning("Twilio webhook: request with a missing or wrong %s rejected (the signed URL "
                               "must be TWILIO_WEBHOOK_URL=%s)", SIGNATURE_HEADER, self.webhook_url)
                return response.text("forbidden", status=403)
            sender = request.form.get("From")
            if not sender:
                return response.text("missing From", status=400)
            try:
                conversation = ids.conversation_id(self.name(), sender)
            except ids.ConversationIdError:
                return response.text("From is not a WhatsApp number", status=400)
            if not await is_new_delivery(self.name(), request.form.get("MessageSid")):
                logger.info("Twilio: message %s was already taken in; re-delivery acknowledged",
                            request.form.get("MessageSid"))
                return response.text(EMPTY_TWIML, content_type="text/xml")
            text = (request.form.get("Body") or "").strip()
            canned = None if text else UNSUPPORTED_INPUT_REPLY  # a photo, voice note, sticker or location
            if is_too_long(text):
                canned = too_long_reply()
            allowed, tell = await within_rate_limit(self.name(), conversation, sender_rate_limit())
            if not allowed:
                if not tell:
                    return response.text(EMPTY_TWIML, content_type="text/xml")
                canned = rate_limited_reply()
            metadata = self.get_metadata(request)

            async def process() -> None:
                out_channel = self.get_output_channel()
                out_channel.recorder.raise_failures = False  # record, then go on with the turn
                try:
                    if canned is not None:
                        await out_channel.send_text_message(conversation, canned)
                    else:
                        rating = await feedback_prompt.rating_reply(conversation, text)
                        if rating is not None:  # 👍 / 👎 right after the feedback prompt
                            chosen = feedback_prompt.rating_payload(
                                rating, await last_answered_topic(request, conversation))
                        else:
                            chosen = choose_option(text, await last_offered_buttons(request, conversation))
                        await on_new_message(UserMessage(chosen or text, out_channel, conversation,
                                                         input_channel=self.name(), metadata=metadata))
                finally:
                    await report_undelivered(out_channel.recorder)

            queues.submit(conversation, process)
            return response.text(EMPTY_TWIML, content_type="text/xml")

        @twilio_webhook.route("/status", methods=["POST"])
        async def delivery_status(request: Request) -> HTTPResponse:
            """Twilio's StatusCallback for a message we sent: queued, sent, delivered, read, failed, ..."""
            refused = oversized(request) or not_a_form(request)
            if refused is not None:
                return refused
            if not self.is_signed_by_twilio(request, status_callback_url(self.webhook_url)):
                return response.text("forbidden", status=403)
            sid, status = request.form.get("MessageSid"), request.form.get("MessageStatus")
            if not sid or not status:
                return response.text("missing MessageSid or MessageStatus", status=400)
            code = request.form.get("ErrorCode")
            await status_callback(self.name(), sid, status, f"Twilio error {code}" if code else None)
            return response.text("", status=204)

        @twilio_webhook.listener("before_server_stop")
        async def finish(*_: Any) -> None:
            await queues.drain()

        return twilio_webhook
