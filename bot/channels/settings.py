"""The channel connectors' settings, as the connectors ask for them. Every value comes from the one settings
catalogue (bot/settings.py: type, default, validation and meaning of each CLINIC_* variable; the table is
docs/settings.md, section "Channels"); these helpers only name what a connector needs."""
from __future__ import annotations

from bot.settings import settings


def graph_version() -> str:
    """Meta Graph API version for outgoing WhatsApp Cloud messages (CLINIC_WHATSAPP_GRAPH_VERSION)."""
    return settings().whatsapp_graph_version


def sender_rate_limit() -> str:
    return settings().sender_rate_limit


def rest_rate_limit() -> str:
    return settings().rest_rate_limit


def socket_session_rate_limit() -> str:
    return settings().socket_session_rate_limit


def webhook_max_bytes() -> int:
    return settings().webhook_max_bytes


def max_message_chars() -> int:
    """Telegram and WhatsApp cap a message at 4096 characters; REST and the widget are held to the same, so a
    pasted document cannot keep the language understanding busy for minutes."""
    return settings().max_message_chars


def dedup_days() -> float:
    return settings().webhook_dedup_days


def send_attempts() -> int:
    return settings().send_attempts


def send_max_wait() -> float:
    return settings().send_max_wait


def redis_url() -> str | None:
    return settings().redis_url
