"""Telegram: Rasa's connector plus a webhook secret token, inline keyboards, long-message splitting, clear
replies to stickers/photos/edits, and a configurable Bot API server (TELEGRAM_API_URL) for tests.

Conversations are `telegram:<chat id>`. Each update is taken in once (its update_id is recorded in the clinic
database), answered 200 at once, and processed in the background in order per chat (bot/channels/intake.py).
Outgoing calls retry 429 (after Telegram's retry_after) and 5xx; failures are recorded (delivery.py).

credentials.yml names this class by module path: `bot.channels.telegram.ClinicTelegramInput`.
"""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any

import requests
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import ids
from bot.channels.common import ChannelAPIError, post, redact
from bot.channels.delivery import DeliveryRecorder, report_undelivered
from bot.channels.feedback_prompt import answer_topic, is_rating_payload, rating_payload
from bot.channels.intake import ConversationQueues, is_new_delivery, oversized, within_rate_limit
from bot.channels.messages import (
    EDITED_MESSAGE_REPLY,
    UNSUPPORTED_INPUT_REPLY,
    is_too_long,
    mark_urgent,
    message_limit,
    rate_limited_reply,
    split_message,
    too_long_reply,
    triage_level,
)
from bot.channels.settings import sender_rate_limit
from bot.secret_compare import same_secret

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org"
MESSAGE_LIMIT = 4096          # Bot API: text of sendMessage, 1-4096 characters
CALLBACK_DATA_LIMIT = 64      # Bot API: callback_data, 1-64 bytes
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_TOKEN_FORMAT = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what setWebhook accepts as secret_token
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
CHAT_ID = re.compile(r"^-?\d{1,20}$")  # a chat id is an integer (negative for groups)


def api_base_url() -> str:
    return (os.environ.get("TELEGRAM_API_URL") or DEFAULT_API_URL).rstrip("/")


def inline_keyboard(buttons: list[dict[str, Any]], rating_topic: str | None = None) -> dict[str, Any]:
    """One button per row (readable on a phone). A payload too long for callback_data sends the title.

    With `rating_topic` (a knowledge answer's topic) a last row 👍 / 👎 rates the answer (rating_row).
    """
    rows = []
    for button in buttons:
        data = str(button.get("payload") or button.get("title", ""))
        if len(data.encode("utf-8")) > CALLBACK_DATA_LIMIT:
            data = str(button.get("title", ""))[:CALLBACK_DATA_LIMIT]
        rows.append([{"text": str(button.get("title", "")), "callback_data": data}])
    if rating_topic:
        rows.append(rating_row(rating_topic))
    return {"inline_keyboard": rows}


def rating_row(topic: str) -> list[dict[str, str]]:
    """👍 / 👎 sending the widget's rating payloads; a payload over 64 bytes goes without its topic (the action
    then rates the conversation's latest answer)."""
    return [{"text": text, "callback_data": rating_payload(helpful, topic, CALLBACK_DATA_LIMIT)}
            for text, helpful in (("👍", True), ("👎", False))]


def without_rating_row(reply_markup: Any) -> dict[str, Any] | None:
    """The inline keyboard of a rated message without its 👍 / 👎 row; None when it had none."""
    rows = reply_markup.get("inline_keyboard") if isinstance(reply_markup, dict) else None
    if not isinstance(rows, list):
        return None
    kept = [row for row in rows if not (isinstance(row, list) and any(
        isinstance(button, dict) and is_rating_payload(button.get("callback_data")) for button in row))]
    return {"inline_keyboard": kept} if len(kept) < len(rows) else None


class ClinicTelegramOutput(OutputChannel):
    """Sends the bot's messages through the Bot API with plain text (no parse_mode: nothing to escape)."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    def __init__(self, access_token: str, api_url: str | None = None) -> None:
        self.access_token = access_token
        self.api_url = (api_url or api_base_url()).rstrip("/")
        self.limit = message_limit(MESSAGE_LIMIT, "TELEGRAM_MESSAGE_LIMIT")
        self.recorder = DeliveryRecorder(self.name())

    @staticmethod
    def chat_id(recipient_id: str) -> str:
        """The Telegram chat id of a conversation id ('telegram:42' -> '42'; a bare id is kept)."""
        return recipient_id.removeprefix("telegram:")

    async def send_message(self, recipient_id: str, payload: dict[str, Any], level: str | None) -> None:
        chat = self.chat_id(recipient_id)
        await self.recorder.deliver(
            ids.conversation_id(self.name(), chat), lambda: self.call("sendMessage", {"chat_id": chat, **payload}),
            level=level, message_id=lambda answer: answer["result"]["message_id"])

    def method_url(self, method: str) -> str:
        return f"{self.api_url}/bot{self.access_token}/{method}"

    async def call(self, method: str, payload: dict[str, Any]) -> dict:
        answer = await post(self.method_url(method), json=payload)
        if isinstance(answer, dict) and answer.get("ok") is False:
            raise ChannelAPIError(f"Telegram {method} failed: {answer.get('description')}")
        return answer

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        topic = answer_topic(kwargs)
        if topic:  # a knowledge answer: the 👍 / 👎 row alone under it
            await self.send_text_with_buttons(recipient_id, text, [], **kwargs)
            return
        level = triage_level(kwargs)
        for part in split_message(mark_urgent(text, kwargs), self.limit):
            await self.send_message(recipient_id, {"text": part}, level)

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        level = triage_level(kwargs)
        parts = split_message(mark_urgent(text, kwargs), self.limit) or ["Choose an option:"]
        keyboard = inline_keyboard(buttons, rating_topic=answer_topic(kwargs))
        for number, part in enumerate(parts, start=1):
            payload: dict[str, Any] = {"text": part}
            if number == len(parts) and keyboard["inline_keyboard"]:  # under the last part, where the reader is
                payload["reply_markup"] = keyboard
            await self.send_message(recipient_id, payload, level)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        chat = self.chat_id(recipient_id)
        await self.recorder.deliver(ids.conversation_id(self.name(), chat),
                                    lambda: self.call("sendPhoto", {"chat_id": chat, "photo": image}))

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """A custom message is a sendMessage payload (e.g. with its own reply_markup); it needs a text."""
        if json_message.get("text"):
            await self.send_message(recipient_id, dict(json_message), triage_level(kwargs))
        else:
            logger.warning("Telegram: custom message without text ignored: %s", sorted(json_message))


class ClinicTelegramInput(TelegramInput):
    """Telegram webhook that only accepts requests carrying the secret token it registered with setWebhook."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(credentials.get("access_token"), credentials.get("verify"),
                   credentials.get("webhook_url"), secret_token=credentials.get("secret_token"))

    def __init__(self, access_token: str | None, verify: str | None, webhook_url: str | None,
                 debug_mode: bool = False, secret_token: str | None = None, api_url: str | None = None,
                 register_webhook: bool = True) -> None:
        super().__init__(access_token, verify, webhook_url, debug_mode=debug_mode)
        if not secret_token or not SECRET_TOKEN_FORMAT.match(secret_token):
            raise ValueError("TELEGRAM_SECRET_TOKEN must be 1-256 characters of A-Z, a-z, 0-9, _ and - "
                             "(Telegram's rule for setWebhook's secret_token); e.g. `openssl rand -hex 32`.")
        if not access_token:
            raise ValueError("TELEGRAM_TOKEN is empty: set it to the token BotFather gave you.")
        self.secret_token = secret_token
        self.api_url = (api_url or api_base_url()).rstrip("/")
        self.register_webhook = register_webhook

    def get_output_channel(self) -> ClinicTelegramOutput:
        # Unlike Rasa's connector this does not call setWebhook on every use: that happens once, at start-up.
        return ClinicTelegramOutput(self.access_token, self.api_url)

    def has_secret_token(self, headers: Any) -> bool:
        """True when the request carries the secret token registered with setWebhook (constant-time check)."""
        given = headers.get(SECRET_HEADER) or ""
        return same_secret(given, self.secret_token)

    def set_webhook(self) -> bool:
        """Register the webhook URL with the secret token Telegram must echo in every update."""
        url = f"{self.api_url}/bot{self.access_token}/setWebhook"
        try:
            answer = requests.post(url, json={"url": self.webhook_url, "secret_token": self.secret_token,
                                              "allowed_updates": ALLOWED_UPDATES}, timeout=15)
            ok = answer.ok and answer.json().get("ok", False)
            if not ok:
                logger.error("Telegram setWebhook for %s failed (%s): %s. Check TELEGRAM_TOKEN and that "
                             "TELEGRAM_WEBHOOK_URL is a public HTTPS URL; retry with POST "
                             "/webhooks/telegram/set_webhook.", self.webhook_url, answer.status_code,
                             answer.text[:300])
            else:
                logger.info("Telegram webhook registered: %s", self.webhook_url)
            return bool(ok)
        except (requests.RequestException, ValueError) as error:
            logger.error("Telegram setWebhook via %s failed: %s; retry with POST "
                         "/webhooks/telegram/set_webhook", redact(url), error)
            return False

    @staticmethod
    async def remove_rating_row(out_channel: ClinicTelegramOutput, callback: dict[str, Any]) -> None:
        """After a 👍 / 👎 press, take the rating row off that answer: one rating per answer, no nagging."""
        message = _dict(callback.get("message"))
        chat, message_id = _id(_dict(message.get("chat"))), message.get("message_id")
        keyboard = without_rating_row(message.get("reply_markup"))
        if chat is None or not isinstance(message_id, int) or keyboard is None:
            return
        try:
            await out_channel.call("editMessageReplyMarkup", {"chat_id": chat, "message_id": message_id,
                                                              "reply_markup": keyboard})
        except Exception as error:  # cosmetic: the rating itself goes to the bot below
            logger.warning("Telegram editMessageReplyMarkup failed: %s", error)

    @staticmethod
    def interpret(update: dict[str, Any],
                  bot_username: str | None = None) -> tuple[str | None, str | None, str | None]:
        """(chat id, text for Rasa, canned reply) of one Update; a canned reply means "send it, skip Rasa"."""
        callback = _dict(update.get("callback_query"))
        if callback:
            chat = _dict(_dict(callback.get("message")).get("chat")) or _dict(callback.get("from"))
            data = callback.get("data")
            return _id(chat), data if isinstance(data, str) else "", None
        edited = _dict(update.get("edited_message"))
        if edited:
            return _id(_dict(edited.get("chat"))), None, EDITED_MESSAGE_REPLY
        message = _dict(update.get("message"))
        if not message:
            return None, None, None  # e.g. my_chat_member: nothing to answer
        chat_id = _id(_dict(message.get("chat")))
        text = message.get("text")
        if not isinstance(text, str):  # sticker, photo, voice, document, location, ...
            return chat_id, None, UNSUPPORTED_INPUT_REPLY
        if is_too_long(text):
            return chat_id, None, too_long_reply()
        if bot_username:
            text = text.replace(f"@{bot_username}", "")
        if text.strip().split(" ")[0] in ("/start", "/help"):
            text = "hi"  # Telegram's standard commands open the conversation with a greeting
        return chat_id, text, None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram_webhook = Blueprint("clinic_telegram_webhook", __name__)
        queues = ConversationQueues()
        if self.register_webhook:
            self.set_webhook()

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @telegram_webhook.route("/set_webhook", methods=["POST"])
        async def set_webhook(_: Request) -> HTTPResponse:
            ok = self.set_webhook()
            return response.json({"ok": ok}, status=200 if ok else 502)

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            if not self.has_secret_token(request.headers):
                logger.warning("Telegram webhook: request without the right %s rejected", SECRET_HEADER)
                return response.text("forbidden", status=403)
            too_large = oversized(request)
            if too_large is not None:
                return too_large
            try:
                update = request.json
            except Exception:  # sanic raises InvalidUsage on a malformed body
                update = None
            if not isinstance(update, dict):
                return response.text("expected a Telegram Update as JSON", status=400)
            chat_id, text, canned = self.interpret(update, self.verify)
            if chat_id is None:
                return response.text("success")
            try:
                conversation = ids.conversation_id(self.name(), chat_id)
            except ids.ConversationIdError:
                return response.text("the update's chat id is not usable", status=400)
            update_id = update.get("update_id")
            if not await is_new_delivery(self.name(), None if update_id is None else str(update_id)):
                logger.info("Telegram: update %s was already taken in; re-delivery acknowledged", update_id)
                return response.text("success")
            allowed, tell = await within_rate_limit(self.name(), conversation, sender_rate_limit())
            if not allowed:
                canned, text = (rate_limited_reply() if tell else None), None
                if canned is None:
                    return response.text("success")
            callback = _dict(update.get("callback_query"))
            metadata = self.get_metadata(request)

            async def process() -> None:
                out_channel = self.get_output_channel()
                out_channel.recorder.raise_failures = False  # record, then go on with the turn
                if callback.get("id"):
                    try:  # stop the button's loading spinner
                        await out_channel.call("answerCallbackQuery", {"callback_query_id": callback["id"]})
                    except Exception as error:  # cosmetic; the answer below matters
                        logger.warning("Telegram answerCallbackQuery failed: %s", error)
                    if is_rating_payload(text):
                        await self.remove_rating_row(out_channel, callback)
                try:
                    if canned is not None:
                        await out_channel.send_text_message(conversation, canned)
                    elif text:
                        await on_new_message(UserMessage(text, out_channel, conversation,
                                                         input_channel=self.name(), metadata=metadata))
                finally:
                    await report_undelivered(out_channel.recorder)

            queues.submit(conversation, process)
            return response.text("success")

        @telegram_webhook.listener("before_server_stop")
        async def finish(*_: Any) -> None:
            await queues.drain()

        return telegram_webhook


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _id(chat: dict[str, Any]) -> str | None:
    value = chat.get("id")
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not CHAT_ID.match(str(value)):
        return None
    return str(value)
