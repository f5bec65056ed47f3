"""Telegram: Rasa's connector plus a webhook secret token, inline keyboards, long-message splitting, clear
replies to stickers/photos/edits, and a configurable Bot API server (TELEGRAM_API_URL) for tests.

credentials.yml names this class by module path: `bot.channels.telegram.ClinicTelegramInput`.
"""
from __future__ import annotations

import hmac
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

from bot.channels.common import ChannelAPIError, post, redact
from bot.channels.messages import (
    EDITED_MESSAGE_REPLY,
    UNSUPPORTED_INPUT_REPLY,
    mark_urgent,
    message_limit,
    split_message,
)

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org"
MESSAGE_LIMIT = 4096          # Bot API: text of sendMessage, 1-4096 characters
CALLBACK_DATA_LIMIT = 64      # Bot API: callback_data, 1-64 bytes
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_TOKEN_FORMAT = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what setWebhook accepts as secret_token
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


def api_base_url() -> str:
    return (os.environ.get("TELEGRAM_API_URL") or DEFAULT_API_URL).rstrip("/")


def inline_keyboard(buttons: list[dict[str, Any]]) -> dict[str, Any]:
    """One button per row (readable on a phone). A payload too long for callback_data sends the title."""
    rows = []
    for button in buttons:
        data = str(button.get("payload") or button.get("title", ""))
        if len(data.encode("utf-8")) > CALLBACK_DATA_LIMIT:
            data = str(button.get("title", ""))[:CALLBACK_DATA_LIMIT]
        rows.append([{"text": str(button.get("title", "")), "callback_data": data}])
    return {"inline_keyboard": rows}


class ClinicTelegramOutput(OutputChannel):
    """Sends the bot's messages through the Bot API with plain text (no parse_mode: nothing to escape)."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    def __init__(self, access_token: str, api_url: str | None = None) -> None:
        self.access_token = access_token
        self.api_url = (api_url or api_base_url()).rstrip("/")
        self.limit = message_limit(MESSAGE_LIMIT, "TELEGRAM_MESSAGE_LIMIT")

    def method_url(self, method: str) -> str:
        return f"{self.api_url}/bot{self.access_token}/{method}"

    async def call(self, method: str, payload: dict[str, Any]) -> dict:
        answer = await post(self.method_url(method), json=payload)
        if isinstance(answer, dict) and answer.get("ok") is False:
            raise ChannelAPIError(f"Telegram {method} failed: {answer.get('description')}")
        return answer

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_message(mark_urgent(text, kwargs), self.limit):
            await self.call("sendMessage", {"chat_id": recipient_id, "text": part})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        parts = split_message(mark_urgent(text, kwargs), self.limit) or ["Choose an option:"]
        for number, part in enumerate(parts, start=1):
            payload: dict[str, Any] = {"chat_id": recipient_id, "text": part}
            if number == len(parts):  # the keyboard goes under the last part, where the reader is
                payload["reply_markup"] = inline_keyboard(buttons)
            await self.call("sendMessage", payload)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.call("sendPhoto", {"chat_id": recipient_id, "photo": image})

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """A custom message is a sendMessage payload (e.g. with its own reply_markup); it needs a text."""
        payload = {"chat_id": recipient_id, **json_message}
        if payload.get("text"):
            await self.call("sendMessage", payload)
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
        return hmac.compare_digest(given.encode(), self.secret_token.encode())

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
    def interpret(update: dict[str, Any],
                  bot_username: str | None = None) -> tuple[str | None, str | None, str | None]:
        """(chat id, text for Rasa, canned reply) of one Update; a canned reply means "send it, skip Rasa"."""
        callback = update.get("callback_query")
        if callback:
            chat = (callback.get("message") or {}).get("chat") or callback.get("from") or {}
            return _id(chat), callback.get("data") or "", None
        edited = update.get("edited_message")
        if edited:
            return _id(edited.get("chat") or {}), None, EDITED_MESSAGE_REPLY
        message = update.get("message")
        if not message:
            return None, None, None  # e.g. my_chat_member: nothing to answer
        chat_id = _id(message.get("chat") or {})
        text = message.get("text")
        if text is None:  # sticker, photo, voice, document, location, ...
            return chat_id, None, UNSUPPORTED_INPUT_REPLY
        if bot_username:
            text = text.replace(f"@{bot_username}", "")
        if text.strip().split(" ")[0] in ("/start", "/help"):
            text = "hi"  # Telegram's standard commands open the conversation with a greeting
        return chat_id, text, None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram_webhook = Blueprint("clinic_telegram_webhook", __name__)
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
            try:
                update = request.json
            except Exception:  # sanic raises InvalidUsage on a malformed body
                update = None
            if not isinstance(update, dict):
                return response.text("expected a Telegram Update as JSON", status=400)
            out_channel = self.get_output_channel()
            chat_id, text, canned = self.interpret(update, self.verify)
            if chat_id is None:
                return response.text("success")
            callback = update.get("callback_query")
            if callback and callback.get("id"):
                try:  # stop the button's loading spinner
                    await out_channel.call("answerCallbackQuery", {"callback_query_id": callback["id"]})
                except Exception as error:  # cosmetic; the answer below matters
                    logger.warning("Telegram answerCallbackQuery failed: %s", error)
            try:
                if canned is not None:
                    await out_channel.send_text_message(chat_id, canned)
                elif text:
                    await on_new_message(UserMessage(text, out_channel, chat_id, input_channel=self.name(),
                                                     metadata=self.get_metadata(request)))
            except Exception:
                # Answer 200 anyway: Telegram would otherwise re-deliver the same update again and again.
                logger.exception("Telegram: handling the update for chat %s failed", chat_id)
                if self.debug_mode:
                    raise
            return response.text("success")

        return telegram_webhook


def _id(chat: dict[str, Any]) -> str | None:
    return str(chat["id"]) if chat.get("id") is not None else None
