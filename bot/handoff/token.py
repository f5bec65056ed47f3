"""The shared secret the staff console uses to ask the Rasa server to take over, reply or hand back.

CLINIC_HANDOFF_TOKEN when set (production: the same value for the web app and every Rasa server); otherwise
a random token generated once into var/handoff_token (0600), which both processes on one machine read.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from bot.paths import VAR_DIR
from bot.secret_compare import same_secret
from bot.settings import secret, settings

TOKEN_FILE = VAR_DIR / "handoff_token"


def handoff_token(path: Path | None = None) -> str:
    configured = secret(settings().handoff_token)
    if configured:
        return configured
    path = path or TOKEN_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            return path.read_text(encoding="utf-8").strip()
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(token)
        return token


def is_authorised(header: str | None) -> bool:
    """`Authorization: Bearer <token>`, compared in constant time."""
    if not header or not header.startswith("Bearer "):
        return False
    return same_secret(header[len("Bearer "):].strip(), handoff_token())
