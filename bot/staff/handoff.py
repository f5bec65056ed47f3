"""The handoff area's service: ask the Rasa server to take over, reply or hand back, and read the live chat.

The console never writes the conversation log itself: the Rasa server owns it (and its lock), so it appends
the events and sends the message through the conversation's own channel (bot/handoff/channel.py). The
console only calls it, with the shared handoff token, and shows the answer (delivered, or why not).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy.engine import Connection

from bot.handoff import store
from bot.handoff.token import handoff_token
from bot.settings import settings
from bot.staff import queries
from bot.staff.models import StaffUser

OPERATIONS = ("take_over", "reply", "hand_back")


@dataclass(frozen=True)
class HandoffResult:
    ok: bool
    delivered: bool
    message: str  # what the console shows the staff member


def visitor_name(user: StaffUser) -> str:
    """The name a visitor sees when this person joins: the account's display name, set by an admin or with
    `bot staff create-user --display-name`; without one, the first part of the user name ('anna.lee' -> 'Anna')."""
    if user.display_name:
        return user.display_name
    first = user.username.split("@")[0].replace("_", ".").replace("-", ".").split(".")[0] or user.username
    return first[:1].upper() + first[1:]


def rasa_url() -> str:
    return settings().rasa_url.rstrip("/")


def operate(operation: str, conversation_id: str, user: StaffUser, text: str = "") -> HandoffResult:
    if operation not in OPERATIONS:
        raise ValueError(f"unknown handoff operation {operation!r}")
    body = {"conversation_id": conversation_id, "staff_id": user.username, "staff_name": visitor_name(user),
            "text": text}
    try:
        answer = requests.post(f"{rasa_url()}/webhooks/handoff/{operation}", json=body, timeout=15,
                               headers={"Authorization": f"Bearer {handoff_token()}"})
        data: dict[str, Any] = answer.json() if answer.content else {}
    except (requests.RequestException, ValueError):
        return HandoffResult(False, False, "The assistant's server did not answer; nothing was sent. "
                                           "Try again in a moment, or phone the patient.")
    if answer.status_code != 200 or not data.get("ok"):
        return HandoffResult(False, False, f"Not sent: {data.get('reason') or f'HTTP {answer.status_code}'}")
    done = {"take_over": "You have taken over this conversation; the assistant is paused.",
            "reply": "Reply sent.", "hand_back": "Handed back to the assistant."}[operation]
    if not data.get("delivered"):
        done += f" The visitor was not notified: {data.get('reason') or 'the channel cannot push messages'}."
    return HandoffResult(True, bool(data.get("delivered")), done)


def live_items(conn: Connection, conversation_id: str, after_id: int = 0) -> list[dict[str, Any]]:
    """The conversation's user and bot messages after event `after_id`, for the live chat page."""
    items = []
    for item in queries.transcript(conn, conversation_id):
        if item["id"] <= after_id or item["type"] not in ("user", "bot"):
            continue
        items.append({"id": item["id"], "type": item["type"], "text": item.get("text") or "",
                      "at": item["at"].isoformat() + "Z", "staff_name": item.get("staff_name"),
                      "red_flag_level": item.get("red_flag_level")})
    return items


def queue() -> list[dict[str, Any]]:
    """Conversations waiting for a person (oldest first) and those with staff."""
    rows = []
    for state in store.open_handoffs():
        rows.append({"conversation_id": state.conversation_id, "state": state.state, "staff_id": state.staff_id,
                     "requested_at": state.requested_at, "taken_at": state.taken_at,
                     "waiting_seconds": state.waiting_seconds(), "red_flag_alert": state.red_flag_alert})
    return rows
