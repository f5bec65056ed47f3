"""The channel connectors' settings, read from the environment, each with its default and meaning.

| variable | default | meaning |
| --- | --- | --- |
| CLINIC_WHATSAPP_GRAPH_VERSION | v23.0 | Meta Graph API version for outgoing WhatsApp Cloud messages |
| CLINIC_SENDER_RATE_LIMIT | 20/minute;200/hour | messages one sender may send on Telegram, WhatsApp and the widget |
| CLINIC_REST_RATE_LIMIT | (off) | the same for REST senders (REST is for tests and trusted integrations) |
| CLINIC_SOCKET_SESSION_RATE_LIMIT | 30/minute | new widget sessions one network address may open |
| CLINIC_WEBHOOK_MAX_BYTES | 65536 | largest webhook body accepted (413 above it) |
| CLINIC_MAX_MESSAGE_CHARS | 4096 | longest message the bot reads, on every channel (a clear reply above it) |
| CLINIC_WEBHOOK_DEDUP_DAYS | 8 | how long a platform's message id is remembered (Meta re-delivers for up to 7 days) |
| CLINIC_SEND_ATTEMPTS | 4 | tries per outgoing platform call on 429, 5xx or a connection error |
| CLINIC_SEND_MAX_WAIT | 30 | longest wait in seconds before a retry (a longer Telegram retry_after gives up) |
| CLINIC_REDIS_URL | (none) | when set, rate limits live in Redis, shared by every Rasa server |
"""
from __future__ import annotations

import os

DEFAULT_GRAPH_VERSION = "v23.0"  # v19.0 reached its end of life; see Meta's Graph API changelog


def _text(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None else value.strip()


def _number(name: str, default: float, minimum: float) -> float:
    raw = _text(name, "")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as error:
        raise ValueError(f"{name}={raw!r}: expected a number") from error
    if value < minimum:
        raise ValueError(f"{name}={raw!r}: must be at least {minimum:g}")
    return value


def graph_version() -> str:
    version = _text("CLINIC_WHATSAPP_GRAPH_VERSION", DEFAULT_GRAPH_VERSION) or DEFAULT_GRAPH_VERSION
    if not version.startswith("v"):
        version = f"v{version}"
    return version


def sender_rate_limit() -> str:
    return _text("CLINIC_SENDER_RATE_LIMIT", "20/minute;200/hour")


def rest_rate_limit() -> str:
    return _text("CLINIC_REST_RATE_LIMIT", "")


def socket_session_rate_limit() -> str:
    return _text("CLINIC_SOCKET_SESSION_RATE_LIMIT", "30/minute")


def webhook_max_bytes() -> int:
    return int(_number("CLINIC_WEBHOOK_MAX_BYTES", 65536, 1024))


def max_message_chars() -> int:
    """Telegram and WhatsApp cap a message at 4096 characters; REST and the widget are held to the same, so a
    pasted document cannot keep the language understanding busy for minutes."""
    return int(_number("CLINIC_MAX_MESSAGE_CHARS", 4096, 200))


def dedup_days() -> float:
    return _number("CLINIC_WEBHOOK_DEDUP_DAYS", 8, 0.01)


def send_attempts() -> int:
    return int(_number("CLINIC_SEND_ATTEMPTS", 4, 1))


def send_max_wait() -> float:
    return _number("CLINIC_SEND_MAX_WAIT", 30, 0)


def redis_url() -> str | None:
    return os.environ.get("CLINIC_REDIS_URL") or None
