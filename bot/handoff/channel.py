"""The Rasa server's handoff endpoints, called by the staff console (never by visitors).

    POST /webhooks/handoff/take_over  {"conversation_id", "staff_id", "staff_name"}
    POST /webhooks/handoff/reply      {"conversation_id", "staff_id", "staff_name", "text"}
    POST /webhooks/handoff/hand_back  {"conversation_id", "staff_id", "staff_name"}

Each needs `Authorization: Bearer <handoff token>` (bot/handoff/token.py). Under the conversation's lock
(Rasa's lock store: Redis when several servers run) the server appends Rasa events to the conversation log
(ConversationPaused / ConversationResumed, and a BotUttered whose metadata names the staff member) and sends
the message through the conversation's own channel (the output of the connector its last message came in
on). The answer says whether it was delivered, or why not (e.g. WhatsApp's 24-hour window).

credentials.yml names this class: `bot.handoff.channel.ClinicHandoffInput`.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationPaused, ConversationResumed, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.clinic_profile import clinic_profile
from bot.handoff import store
from bot.handoff.token import is_authorised

logger = logging.getLogger(__name__)

MAX_REPLY_CHARS = 2000
# WhatsApp (Meta and Twilio) allow free-form messages only within 24 h of the person's last message.
WINDOWED_CHANNELS = {"whatsapp", "twilio"}
CUSTOMER_SERVICE_WINDOW_S = 24 * 3600


class HandoffError(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def joined_text(staff_name: str) -> str:
    return f"{staff_name} from {clinic_profile().name} has joined the conversation."


def handed_back_text(staff_name: str) -> str:
    return (f"{staff_name} has handed you back to the clinic's assistant. Ask me anything about Achilles "
            "pain, or ask for a person again at any time.")


def staff_metadata(staff_id: str, staff_name: str) -> dict[str, Any]:
    return {"author": "staff", "staff_id": staff_id, "staff_name": staff_name}


def window_refusal(channel: str | None, last_user_time: float | None, now: float | None = None) -> str | None:
    """Why a staff message cannot be sent on this channel now, or None when it can."""
    if channel not in WINDOWED_CHANNELS or last_user_time is None:
        return None
    age = (now or time.time()) - last_user_time
    if age <= CUSTOMER_SERVICE_WINDOW_S:
        return None
    hours = int(age // 3600)
    return (f"WhatsApp only allows replies within 24 hours of the patient's last message (theirs was {hours} "
            "hours ago). Phone them, or wait for them to write again.")


class ClinicHandoffInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "handoff"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ClinicHandoffInput:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        handoff = Blueprint("clinic_handoff", __name__)

        @handoff.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @handoff.route("/<operation:str>", methods=["POST"])
        async def operate(request: Request, operation: str) -> HTTPResponse:
            if not is_authorised(request.headers.get("Authorization")):
                return response.json({"ok": False, "reason": "not authorised"}, status=401)
            if operation not in ("take_over", "reply", "hand_back"):
                return response.json({"ok": False, "reason": f"unknown operation {operation!r}"}, status=404)
            try:
                body = _body(request, needs_text=operation == "reply")
                result = await _run(request, operation, body)
            except HandoffError as error:
                return response.json({"ok": False, "delivered": False, "reason": error.reason},
                                     status=error.status)
            return response.json({"ok": True, **result})

        return handoff


def _body(request: Request, needs_text: bool) -> dict[str, str]:
    try:
        data = request.json
    except Exception as error:  # noqa: BLE001 - Sanic raises its own InvalidUsage for bad JSON
        raise HandoffError(400, "the body must be JSON") from error
    if not isinstance(data, dict):
        raise HandoffError(400, "the body must be a JSON object")
    fields = {key: str(data.get(key) or "").strip() for key in ("conversation_id", "staff_id", "staff_name",
                                                                  "text")}
    missing = [key for key in ("conversation_id", "staff_id", "staff_name") if not fields[key]]
    if needs_text and not fields["text"]:
        missing.append("text")
    if missing:
        raise HandoffError(400, f"missing {', '.join(missing)}")
    if len(fields["text"]) > MAX_REPLY_CHARS:
        raise HandoffError(413, f"a reply can be at most {MAX_REPLY_CHARS} characters")
    return fields


def _output_for(request: Request, channel_name: str | None) -> OutputChannel | None:
    for channel in getattr(request.app.ctx, "input_channels", []) or []:
        if channel.name() == channel_name:
            try:
                return channel.get_output_channel()
            except Exception:  # noqa: BLE001 - a connector that cannot build an output right now
                logger.exception("handoff: no output channel for %s", channel_name)
                return None
    return None


def _channel_of(conversation_id: str) -> str | None:
    from bot.channels.ids import CHANNEL_OF_NAMESPACE

    return CHANNEL_OF_NAMESPACE.get(conversation_id.partition(":")[0])


def _last_user_time(tracker) -> float | None:
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return event.timestamp
    return None


async def _run(request: Request, operation: str, body: dict[str, str]) -> dict[str, Any]:
    agent = request.app.ctx.agent
    conversation_id = body["conversation_id"]
    async with agent.lock_store.lock(conversation_id):
        tracker = await agent.tracker_store.retrieve(conversation_id)
        if tracker is None:
            raise HandoffError(404, "no such conversation")
        # the last user message may lie before the current session (a patient who wrote yesterday): read the
        # whole log for it, and fall back to the conversation id's namespace for the channel
        full = await agent.tracker_store.retrieve_full_tracker(conversation_id) or tracker
        channel_name = full.get_latest_input_channel() or _channel_of(conversation_id)
        last_user_time = _last_user_time(full)
        text = {"take_over": lambda: joined_text(body["staff_name"]),
                "hand_back": lambda: handed_back_text(body["staff_name"]),
                "reply": lambda: body["text"]}[operation]()
        refusal = window_refusal(channel_name, last_user_time)
        if operation == "reply" and refusal:
            raise HandoffError(409, refusal)
        if operation == "reply" and not tracker.is_paused():
            raise HandoffError(409, "take the conversation over before replying")
        metadata = staff_metadata(body["staff_id"], body["staff_name"])
        if operation == "take_over" and not tracker.is_paused():
            tracker.update(ConversationPaused())
        delivered, reason = False, refusal
        output = None if refusal else _output_for(request, channel_name)
        if output is not None:
            try:
                await output.send_response(conversation_id, {"text": text, **metadata})
                delivered = True
            except Exception as error:  # noqa: BLE001 - a platform refused; say so to the console
                reason = f"the {channel_name} channel refused the message ({type(error).__name__})"
                logger.warning("handoff: %s delivery failed for %s: %s", channel_name, conversation_id,
                               type(error).__name__)
        elif reason is None:
            reason = f"the {channel_name or 'unknown'} channel has no way to push messages"
        tracker.update(BotUttered(text, data={}, metadata={**metadata, "delivered": delivered}))
        if operation == "hand_back" and tracker.is_paused():
            # the visitor's messages during the handoff were logged without a bot turn after them; a listen
            # after the resume gives the policies a normal "waiting for the user" state again
            tracker.update(ConversationResumed())
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        await agent.tracker_store.save(tracker)
    state = {"take_over": lambda: store.take_over(conversation_id, body["staff_id"], body["staff_name"]),
             "hand_back": lambda: store.hand_back(conversation_id),
             "reply": lambda: store.get(conversation_id)}[operation]()
    logger.info("handoff: %s on %s by %s (delivered=%s)", operation, conversation_id, body["staff_id"], delivered)
    return {"delivered": delivered, "reason": reason, "state": state.state, "channel": channel_name}
