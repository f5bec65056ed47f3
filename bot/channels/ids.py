"""Conversation ids namespaced by channel: `telegram:12345`, `whatsapp:+447700900123`, `web:<token>`, `rest:<id>`.

A connector turns the platform's own id (chat id, phone number, socket session, REST sender) into the
conversation id Rasa keys the tracker by, and back into the platform id when it sends. Because every connector
adds its own prefix, no request on one channel can name a conversation of another: a REST caller sending
`"sender": "whatsapp:+447700900123"` talks in `rest:whatsapp:+447700900123`, never in the patient's chat.

WhatsApp through Meta's Cloud API and through Twilio are two connectors with two namespaces (`whatsapp:` and
`twilio:`): a clinic that runs both has two business numbers, and a person writing to each has two
conversations, each answered (and replied to by staff) through the connector it came in on. Both keep the
number in E.164 (`+447700900123`).
"""
from __future__ import annotations

import re

# Rasa's input channel name (UserMessage.input_channel, the `name()` of a connector) -> id namespace.
NAMESPACES = {
    "telegram": "telegram",
    "whatsapp": "whatsapp",   # Meta Cloud API
    "twilio": "twilio",       # WhatsApp via Twilio
    "socketio": "web",        # the website widget
    "rest": "rest",
}
CHANNEL_OF_NAMESPACE = {namespace: channel for channel, namespace in NAMESPACES.items()}
MAX_PLATFORM_ID = 200        # the tracker store's sender_id column is 255 characters
_DIGITS = re.compile(r"^\+?\d{4,20}$")


class ConversationIdError(ValueError):
    """An id that does not belong to the connector asked to use it."""


def e164(number: str) -> str:
    """'447700900123', '+447700900123' or 'whatsapp:+447700900123' -> '+447700900123' (digits only)."""
    bare = number.strip().removeprefix("whatsapp:").strip()
    if not _DIGITS.match(bare):
        raise ConversationIdError(f"not a phone number: {number[:40]!r}")
    return "+" + bare.lstrip("+")


def conversation_id(channel: str, platform_id: str | int) -> str:
    """The namespaced conversation id of `platform_id` on the connector named `channel` (Rasa's name)."""
    namespace = NAMESPACES.get(channel)
    if namespace is None:
        raise ConversationIdError(f"no id namespace for channel {channel!r}; add it to NAMESPACES")
    value = str(platform_id).strip()
    if channel in ("whatsapp", "twilio"):
        value = e164(value)
    if not value or len(value) > MAX_PLATFORM_ID:
        raise ConversationIdError(f"a {channel} id must be 1-{MAX_PLATFORM_ID} characters")
    return f"{namespace}:{value}"


def platform_id(channel: str, conversation: str) -> str:
    """The platform's own id inside a conversation id of `channel`; refuses an id of another namespace."""
    prefix = f"{NAMESPACES.get(channel, channel)}:"
    if not conversation.startswith(prefix):
        raise ConversationIdError(f"conversation {conversation[:60]!r} is not a {channel} conversation")
    return conversation[len(prefix):]


def split(conversation: str) -> tuple[str | None, str]:
    """(Rasa channel name, platform id) of a namespaced id; (None, id) for an old bare id."""
    namespace, separator, rest = conversation.partition(":")
    if separator and namespace in CHANNEL_OF_NAMESPACE:
        return CHANNEL_OF_NAMESPACE[namespace], rest
    return None, conversation


def is_namespaced(conversation: str) -> bool:
    return split(conversation)[0] is not None
