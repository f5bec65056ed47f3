"""Contact details encrypted at rest: the data key (CLINIC_DATA_KEY or var/data_key) and an encrypted column type.

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) seals each value; MultiFernet lets a clinic rotate
keys: the first key encrypts, every listed key decrypts. The data key is kept apart from the session key
(CLINIC_SECRET_KEY) on purpose: rotating the session key logs staff out, it must never make the clinic's
stored contact details unreadable.
"""
from __future__ import annotations

import base64
import binascii
import logging
import os
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.types import Text, TypeDecorator

from bot.settings import secret, settings

logger = logging.getLogger(__name__)

# Every Fernet token starts with its version byte 0x80, which is "gAAAAA" in URL-safe base64.
TOKEN_PREFIX = "gAAAAA"
UNREADABLE = "[encrypted with another key: set CLINIC_DATA_KEY to the key that wrote it]"

_lock = threading.Lock()
_cache: dict[tuple[str, str], MultiFernet] = {}


def _as_fernet_key(secret: str) -> bytes:
    """A Fernet key as given, or one derived (HKDF-SHA256) from any other secret string."""
    raw = secret.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except (binascii.Error, ValueError):
        pass
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"clinic contact details v1").derive(raw)
    return base64.urlsafe_b64encode(derived)


def key_file() -> Path:
    return Path(settings().data_key_file)


def _key_from_file(path: Path) -> str:
    """The key in path, generated (mode 0600) on first use; a process that loses the race reads the winner's."""
    if path.is_file() and path.read_text().strip():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    key = Fernet.generate_key().decode()
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    logger.info("generated a new data key in %s (keep a copy: without it stored contact details are lost)", path)
    return key


def data_keys() -> list[str]:
    """CLINIC_DATA_KEY (comma-separated, newest first), else the key file. Each is a Fernet key or a passphrase."""
    configured = [k.strip() for k in (secret(settings().data_key) or "").split(",") if k.strip()]
    return configured or [_key_from_file(key_file())]


def box() -> MultiFernet:
    """The MultiFernet for the current keys (cached per key setting)."""
    cache_key = (secret(settings().data_key) or "", str(key_file()))
    with _lock:
        found = _cache.get(cache_key)
        if found is None:
            found = MultiFernet([Fernet(_as_fernet_key(k)) for k in data_keys()])
            _cache[cache_key] = found
        return found


def forget_keys() -> None:
    """For tests that change the key settings."""
    with _lock:
        _cache.clear()


def encrypt(value: str | None) -> str | None:
    return None if value is None else box().encrypt(value.encode("utf-8")).decode("ascii")


def is_token(value: str | None) -> bool:
    return bool(value) and value.startswith(TOKEN_PREFIX)


def decrypt(value: str | None) -> str | None:
    """The plaintext of a token; a value written before encryption (not a token) is returned as it is."""
    if value is None or not is_token(value):
        return value
    try:
        return box().decrypt(value.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError, ValueError):
        logger.warning("a stored contact detail could not be decrypted with the configured data key(s)")
        return UNREADABLE


def reencrypt(value: str | None) -> str | None:
    """A plaintext or old-key value sealed with the newest key (for migrations and key rotation)."""
    if value is None:
        return None
    if not is_token(value):
        return encrypt(value)
    return box().rotate(value.encode("ascii")).decode("ascii")


class EncryptedText(TypeDecorator):
    """A text column stored as a Fernet token; reads give back the plaintext (plaintext rows pass through)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001, ANN201 - SQLAlchemy's signature
        return encrypt(None if value is None else str(value))

    def process_result_value(self, value, dialect):  # noqa: ANN001, ANN201
        return decrypt(value)
