"""Start-up patch (Rasa server) and import-time hook (action server): no patient's words or contact details in
log files.

What the libraries do: Rasa logs the user's text, slot values and parsed messages at DEBUG (processor,
policies, forms) and, through structlog, at ERROR when a REST message fails (`text=...`); rasa_sdk logs whole
trackers at DEBUG; Rasa's warnings go to stderr, which the launcher writes to var/logs/; connectors and
exceptions name senders, which on WhatsApp are phone numbers.

What the clinic needs (the staff console is the one place to read a conversation):
1. DEBUG is switched off process-wide with `logging.disable(DEBUG)`, whatever `--debug`/LOG_LEVEL say, so
   no library's debug line is even created. CLINIC_LOG_DEBUG=1 lets it through on a developer's machine
   (refused with CLINIC_ENV=production).
2. Every record that is created is redacted by a log record factory (it sees records of every logger and
   handler, also those configured after start-up, structlog's output and warnings routed by
   `logging.captureWarnings`): values of content keys (text, message, slot_values, name, phone, email,
   contact_details, ... the list Rasa's own structlog anonymizer uses, plus the clinic's) in JSON, dict
   reprs and key=value pairs become "[redacted]"; e-mail addresses become "[email]"; phone numbers become
   "[phone:<8 hex>]", a keyed pseudonym (HMAC; the key from CLINIC_LOG_PSEUDONYM_KEY, else derived from the
   console's secret key, else random per process) so one sender's lines can still be followed; in
   tracebacks the frames stay and each exception message is cut at its first content key.
Free text in a library's own INFO-or-above message is not recognisable by pattern; the end-to-end test
(tests/security/test_logs_privacy.py) runs a red-flag conversation with a contact form through the real bot
and checks every log file for the words, name and number typed.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import sys
import traceback
from pathlib import Path
from typing import Any

REDACTED = "[redacted]"
# Rasa's structlog anonymizer keys (rasa/utils/log_utils.py) plus the clinic's contact-form and payload keys.
CONTENT_KEYS = frozenset({
    "text", "response_text", "user_text", "slot_values", "parse_data_text", "parse_data_entities",
    "prediction_events", "tracker_latest_message", "prefilled_slots", "message", "response", "slot_candidates",
    "rasa_event", "rasa_events", "tracker_states", "current_states", "old_states", "successes",
    "current_entity", "next_entity", "states", "entity", "token_text", "user_message", "json_message",
    "latest_message", "events", "slots", "tracker", "value", "body", "request_body", "payload",
    "contact_name", "contact_details", "contact", "phone", "phone_number", "email", "details",
    "metadata", "utterance", "Body", "ProfileName", "parameters",
})
_KEYS = "|".join(sorted((re.escape(k) for k in CONTENT_KEYS), key=len, reverse=True))
# "key": "value" / 'key': 'value' (JSON, dict reprs) and key='value' / key="value" / key=value (structlog).
_QUOTED_PAIR = re.compile(
    rf"""(?P<key>["']?\b(?:{_KEYS})\b["']?\s*[:=]\s*)(?P<q>["'])(?P<value>(?:\\.|(?!(?P=q)).)*)(?P=q)""",
    re.DOTALL)
_BARE_PAIR = re.compile(rf"""(?P<key>\b(?:{_KEYS})=)(?P<value>[^\s,;'"\]\)}}]+)""")
# In an exception's message everything from the first content key on is dropped: such messages embed whole
# bodies (an action server's 500 answer quoting the tracker) or SQL parameters, quoted at several levels.
_CUT_FROM = re.compile(rf"""(\b(?:{_KEYS})\b["']?\s*[:=]|\[parameters:)""")
MAX_EXCEPTION_LINE = 500
_FRAME_LINES = ("Traceback (most recent call last):", "The above exception was the direct cause",
                "During handling of the above exception")
EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]+(?:\.[\w-]+)+")
# 7 to 15 digits, maybe with a leading + and single spaces, dots, dashes or brackets between groups; not a
# part of a longer word or number (ids like 3fa2c1d4, times like 06:01:24 and floats like 0.87 stay).
PHONE = re.compile(r"(?:(?<=:)\+|(?<![\w.:/+-])(?:\+|00)?)\(?\d(?:\d|[ .-](?=\(?\d)|\)\s?|\((?=\d)){5,22}\d(?![\w:])")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

_pseudonym_key: bytes = b""
_installed = False
_previous_factory = logging.getLogRecordFactory()


def _key() -> bytes:
    """The pseudonym key: CLINIC_LOG_PSEUDONYM_KEY, else derived from the console's secret key
    (CLINIC_SECRET_KEY or its key file, read, never created), else random for this process."""
    global _pseudonym_key
    if not _pseudonym_key:
        from bot.settings import secret as reveal
        from bot.settings import settings

        values = settings()
        secret = reveal(values.log_pseudonym_key) or reveal(values.secret_key)
        if not secret:
            path = Path(values.secret_key_file)
            try:
                secret = path.read_text().strip() or None
            except OSError:
                secret = None
        _pseudonym_key = (hashlib.sha256(b"clinic-log-pseudonym\0" + secret.encode("utf-8")).digest() if secret
                          else secrets.token_bytes(32))
    return _pseudonym_key


def pseudonym(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return hmac.new(_key(), digits.encode("ascii"), hashlib.sha256).hexdigest()[:8]


def _phone(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    if not 7 <= len(digits) <= 15 or DATE.fullmatch(match.group(0)):
        return match.group(0)
    return f"[phone:{pseudonym(digits)}]"


def redact_json(value: Any) -> Any:
    """A JSON-like value with every content key's value replaced."""
    if isinstance(value, dict):
        return {k: (REDACTED if isinstance(k, str) and k in CONTENT_KEYS and v not in (None, "", [], {})
                    else redact_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_text(text: str) -> str:
    """Content-key values, e-mail addresses and phone numbers in `text` replaced."""
    if not text:
        return text
    stripped = text.strip()
    if stripped[:1] in "{[" and stripped[-1:] in "}]":
        try:
            return json.dumps(redact_json(json.loads(stripped)), ensure_ascii=False)
        except ValueError:
            pass
    text = _QUOTED_PAIR.sub(lambda m: f"{m.group('key')}{m.group('q')}{REDACTED}{m.group('q')}", text)
    text = _BARE_PAIR.sub(lambda m: f"{m.group('key')}{REDACTED}", text)
    cut = re.search(r"\[parameters:", text)
    if cut:  # SQLAlchemy quotes the bound values of a failed statement
        text = f"{text[:cut.end()]} {REDACTED}]"
    text = EMAIL.sub("[email]", text)
    return PHONE.sub(_phone, text)


def redact_exception_line(line: str) -> str:
    """An exception's message line: cut from its first content key, redacted, at most 500 characters."""
    cut = _CUT_FROM.search(line)
    if cut:
        line = f"{line[:cut.end()]} {REDACTED} ({len(line) - cut.end()} characters)"
    line = redact_text(line)
    return line if len(line) <= MAX_EXCEPTION_LINE else f"{line[:MAX_EXCEPTION_LINE]}... (cut)"


def redact_traceback(formatted: str) -> str:
    """Keep the frames (file, line, source code); redact the exception messages."""
    lines = []
    for line in formatted.splitlines():
        if not line.strip() or line.startswith(" ") or line.startswith(_FRAME_LINES):
            lines.append(line)
        else:
            lines.append(redact_exception_line(line))
    return "\n".join(lines)


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Replace the record's message (and traceback) by their redacted text; keep level, logger and time."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed log call must not break logging, nor leak its args
        message = f"{record.msg!s} (arguments could not be formatted)"
    record.msg, record.args = redact_text(message), None
    if record.exc_info and record.exc_info[0] is not None:
        formatted = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = redact_traceback(formatted)
        record.exc_info = None
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)
    return record


def _factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    return redact_record(_previous_factory(*args, **kwargs))


def debug_allowed(env: dict[str, str] | None = None) -> bool:
    from bot.server.security_settings import SecuritySettings

    settings = SecuritySettings.from_env(env)
    return settings.log_debug and not settings.production


def _debug_asked() -> bool:
    from bot.server.security_settings import SecuritySettings

    return SecuritySettings.from_env().log_debug


def install() -> None:
    """Switch DEBUG off (unless allowed), redact every record, route warnings through logging. Idempotent."""
    global _installed, _previous_factory
    if not debug_allowed():
        logging.disable(logging.DEBUG)
    if _installed:
        return
    _previous_factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(_factory)
    logging.captureWarnings(True)
    _installed = True
    if _debug_asked() and not debug_allowed():
        logging.getLogger(__name__).warning("CLINIC_LOG_DEBUG ignored: DEBUG logs stay off in production")


def install_in_action_server() -> None:
    """Called when the `actions` package is imported: install() if this process is the action server
    (`python -m rasa_sdk` or `rasa run actions`), not when tests import the actions."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None and spec.name.split(".")[0] in {"rasa_sdk", "rasa"}:
        install()


def apply() -> None:
    """The Rasa server's start-up patch: install() when the server starts serving (not on import, so a test
    process that applies the patches keeps its own logging)."""
    from bot.server import app_hooks

    app_hooks.on_start(_install_on_start)


def _install_on_start(_server: dict[str, Any]) -> None:
    install()
