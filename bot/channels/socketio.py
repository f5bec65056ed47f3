"""Website widget channel: Rasa's socket.io connector, fixed for session persistence, and each bot message
arrives whole, with its metadata.

Rasa 3.6's `session_request` handler calls python-socketio's `enter_room` without awaiting it; since
python-socketio 5.10 that is a coroutine, so the browser never joins its session's room and, with
session_persistence on, never receives a reply. This connector awaits it.

Sessions belong to the socket that was given them. The server makes every session id: a random token
(`secrets.token_urlsafe`) signed with the clinic's secret key (itsdangerous), so an id cannot be guessed or
made up; the conversation is `web:<token>`. A reload sends the stored id back with `session_request`; a valid
signature continues that conversation, anything else gets a new session. A `user_uttered` is accepted only
for a session this socket was confirmed; others get a clear "session expired" reply and reach no tracker.
New sessions per network address and messages per session are rate limited (bot/channels/ratelimit.py).

Rasa's SocketIOOutput splits a text at every blank line into separate messages and drops the message's
metadata, so the widget could neither keep an answer together with its "Sources:" line nor see the
`grounding` and `triage` data the actions attach. This output sends one event per bot message:
{"text", "quick_replies": [{"title", "payload"}], "metadata": {"grounding": ..., "triage": ...}}.

credentials.yml names this class by module path: `bot.channels.socketio.ClinicSocketIOInput`.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, Signer
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from bot.channels import ids
from bot.channels.intake import ConversationQueues, is_storable_text, within_rate_limit
from bot.channels.messages import is_too_long, rate_limited_reply, too_long_reply
from bot.channels.settings import sender_rate_limit, socket_session_rate_limit, webhook_max_bytes

logger = logging.getLogger(__name__)

SESSION_SALT = "clinic.socketio.session"
MAX_SESSION_ID = 128
SESSION_EXPIRED_REPLY = ("This chat session is not valid any more. Please reload the page to start a new "
                         "conversation.")
BAD_MESSAGE_REPLY = "Sorry, I could not read that message. Please type your question as text."


@lru_cache(maxsize=4)
def _signer(secret: str) -> Signer:
    key = hashlib.sha256(f"{SESSION_SALT}:{secret}".encode()).digest()  # a key of its own, from the secret
    return Signer(key, salt=SESSION_SALT)


def session_signer() -> Signer:
    from bot.staff.auth import load_secret_key  # CLINIC_SECRET_KEY or var/secret_key

    return _signer(load_secret_key())


def new_session_id() -> str:
    """A server-made session id: 'token.signature'."""
    return session_signer().sign(secrets.token_urlsafe(24)).decode()


def session_token(session_id: Any) -> str | None:
    """The token of a session id this server (or another with the same key) made; None for anything else."""
    if not isinstance(session_id, str) or not session_id or len(session_id) > MAX_SESSION_ID:
        return None
    try:
        return session_signer().unsign(session_id.encode()).decode()
    except (BadSignature, UnicodeError, ValueError):
        return None


def session_conversation(session_id: str) -> str | None:
    token = session_token(session_id)
    return ids.conversation_id("socketio", token) if token else None


# Keys of Rasa's message dict that are content, not metadata (see OutputChannel.send_response).
CONTENT_KEYS = {"text", "buttons", "quick_replies", "elements", "image", "attachment", "custom"}


def message_metadata(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The bot message's metadata (grounding, triage, utter_action, ...), JSON-safe, without empty values."""
    metadata = {}
    for key, value in kwargs.items():
        if key in CONTENT_KEYS or value is None:
            continue
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            continue
        metadata[key] = value
    return metadata


class ClinicSocketIOOutput(SocketIOOutput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"text": text.strip(), "metadata": message_metadata(kwargs)})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        quick_replies = [
            {"content_type": "text", "title": b.get("title", ""), "payload": b.get("payload", "")}
            for b in buttons
        ]
        await self._send_message(recipient_id, {"text": (text or "").strip(), "quick_replies": quick_replies,
                                                "metadata": message_metadata(kwargs)})

    async def send_quick_replies(self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]],
                                 **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)


class ClinicSocketIOInput(SocketIOInput):
    """Rasa's socket.io input with ClinicSocketIOOutput; session persistence is set in credentials.yml."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    def get_output_channel(self) -> ClinicSocketIOOutput | None:
        if self.sio is None:
            return super().get_output_channel()  # warns, returns None
        return ClinicSocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        socketio_webhook = super().blueprint(on_new_message)
        sio = self.sio
        sio.eio.max_http_buffer_size = webhook_max_bytes()  # engine.io refuses bigger packets
        queues = ConversationQueues()

        async def enter(sid: str, room: str) -> None:
            entered = sio.enter_room(sid, room, namespace=self.namespace)
            if inspect.isawaitable(entered):  # a coroutine in python-socketio >= 5.10
                await entered

        async def granted(sid: str) -> list[str]:
            try:
                session = await sio.get_session(sid, namespace=self.namespace)
            except KeyError:
                return []
            return list(session.get("granted") or [])

        def address(sid: str) -> str:
            try:
                request = (sio.get_environ(sid, namespace=self.namespace) or {}).get("sanic.request")
                return str(getattr(request, "remote_addr", "") or getattr(request, "ip", "") or "unknown")
            except (KeyError, AttributeError):
                return "unknown"

        async def reply(sid: str, text: str, kind: str) -> None:
            await sio.emit(self.bot_message_evt, {"text": text, "metadata": {"error": kind}}, room=sid,
                           namespace=self.namespace)

        # These replace Rasa's handlers for the same events (python-socketio keeps one handler per event).
        async def session_request(sid: str, data: Any = None, *_: Any) -> None:  # an event may carry 0-n args
            wanted = data.get("session_id") if isinstance(data, dict) else None
            conversation = session_conversation(wanted) if wanted else None
            if conversation is not None:
                session_id = wanted
            else:
                allowed, tell = await within_rate_limit("web-sessions", address(sid), socket_session_rate_limit())
                if not allowed:
                    if tell:
                        await reply(sid, rate_limited_reply(), "rate_limited")
                    return
                session_id = new_session_id()
                conversation = session_conversation(session_id)
            sessions = [s for s in await granted(sid) if s != session_id][-4:] + [session_id]
            await sio.save_session(sid, {"granted": sessions}, namespace=self.namespace)
            await enter(sid, conversation)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        async def handle_message(sid: str, data: Any = None, *_: Any) -> None:
            if not isinstance(data, dict):
                await reply(sid, BAD_MESSAGE_REPLY, "bad_message")
                return
            if self.session_persistence:
                session_id = data.get("session_id")
                if not isinstance(session_id, str) or session_id not in await granted(sid):
                    logger.warning("socket.io: a message for a session this socket was not given was refused")
                    await reply(sid, SESSION_EXPIRED_REPLY, "session")
                    return
                conversation = session_conversation(session_id)
            else:
                conversation = ids.conversation_id("socketio", sid)
                await enter(sid, conversation)
            text = data.get("message")
            if not isinstance(text, str) or not text.strip() or not is_storable_text(text):
                await reply(sid, BAD_MESSAGE_REPLY, "bad_message")
                return
            if is_too_long(text):
                await reply(sid, too_long_reply(), "too_long")
                return
            allowed, tell = await within_rate_limit("web", conversation, sender_rate_limit())
            if not allowed:
                if tell:
                    await reply(sid, rate_limited_reply(), "rate_limited")
                return
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            if not isinstance(metadata, dict):
                metadata = {}
            output = ClinicSocketIOOutput(sio, self.bot_message_evt)
            message = UserMessage(text, output, conversation, input_channel=self.name(), metadata=metadata)
            queues.submit(conversation, lambda: on_new_message(message))

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)

        @socketio_webhook.listener("before_server_stop")
        async def finish(*_: Any) -> None:
            await queues.drain()

        return socketio_webhook
