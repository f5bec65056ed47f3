"""Website widget channel: Rasa's socket.io connector, fixed for session persistence, and each bot message
arrives whole, with its metadata.

Rasa 3.6's `session_request` handler calls python-socketio's `enter_room` without awaiting it; since
python-socketio 5.10 that is a coroutine, so the browser never joins its session's room and, with
session_persistence on, never receives a reply. This connector awaits it, and only accepts session ids of
the form it hands out (32 hex digits), so a client cannot join another connection's room.

Rasa's SocketIOOutput splits a text at every blank line into separate messages and drops the message's
metadata, so the widget could neither keep an answer together with its "Sources:" line nor see the
`grounding` and `triage` data the actions attach. This output sends one event per bot message:
{"text", "quick_replies": [{"title", "payload"}], "metadata": {"grounding": ..., "triage": ...}}.

credentials.yml names this class by module path: `bot.channels.socketio.ClinicSocketIOInput`.
"""
from __future__ import annotations

import inspect
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import rasa.shared.utils.io
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

logger = logging.getLogger(__name__)

# Keys of Rasa's message dict that are content, not metadata (see OutputChannel.send_response).
SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
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

        # These replace Rasa's handlers for the same events (python-socketio keeps one handler per event).
        async def session_request(sid: str, data: dict | None) -> None:
            wanted = (data or {}).get("session_id")
            session_id = wanted if isinstance(wanted, str) and SESSION_ID.match(wanted) else uuid.uuid4().hex
            if self.session_persistence:
                entered = sio.enter_room(sid, session_id)
                if inspect.isawaitable(entered):  # a coroutine in python-socketio >= 5.10
                    await entered
            await sio.emit("session_confirm", session_id, room=sid)

        async def handle_message(sid: str, data: dict) -> None:
            if self.session_persistence:
                if not data.get("session_id"):
                    rasa.shared.utils.io.raise_warning(
                        "socket.io message without a session_id ignored: the widget must send "
                        "`session_request` first and put the confirmed id into every message.")
                    return
                sender_id = data["session_id"]
            else:
                sender_id = sid
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            output = ClinicSocketIOOutput(sio, self.bot_message_evt)
            await on_new_message(UserMessage(data.get("message", ""), output, sender_id,
                                             input_channel=self.name(), metadata=metadata))

        sio.on("session_request", session_request, namespace=self.namespace)
        sio.on(self.user_message_evt, handle_message, namespace=self.namespace)
        return socketio_webhook
