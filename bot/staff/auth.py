"""Staff accounts and login checks: argon2 hashes, a lockout that cannot keep staff out, roles, secret key."""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.settings import secret, settings
from bot.staff.models import ROLES, StaffUser

_hasher = PasswordHasher()
_dummy: dict[int, str] = {}


def _dummy_hash() -> str:
    """Verified against when the user name is unknown, so a wrong name costs as long as a wrong password: made
    with the current hasher's parameters (argon2 keeps them in the hash), once per hasher."""
    key = id(_hasher)
    if key not in _dummy:
        _dummy[key] = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy[key]


def warm_up() -> None:
    _dummy_hash()
MIN_PASSWORD_LENGTH = 10


def max_failed_logins() -> int:
    return settings().staff_max_failed_logins


def lockout_minutes() -> float:
    return settings().staff_lockout_minutes


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class AccountError(ValueError):
    """A staff account could not be created or changed (the message says why)."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def clean_display_name(value: str | None) -> str | None:
    """The name visitors see ("Anna", "Dr Lee"): 1-64 printable characters, or None for "derive it"."""
    value = " ".join((value or "").split())
    if not value:
        return None
    if len(value) > 64 or not value.isprintable() or any(c in "<>{}" for c in value):
        raise AccountError("a display name is 1-64 printable characters, without < > { }")
    return value


def create_user(session: Session, username: str, password: str, role: str = "staff",
                display_name: str | None = None) -> StaffUser:
    """Create an account; raise AccountError if the name is taken, the role unknown or the password short."""
    username = username.strip()
    if not username or len(username) > 64 or not all(c.isalnum() or c in "._-@" for c in username):
        raise AccountError("a user name is 1-64 letters, digits or . _ - @")
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    check_new_password(password)
    if session.execute(select(StaffUser).where(StaffUser.username == username)).scalar_one_or_none():
        raise AccountError(f"a staff user named {username!r} already exists")
    user = StaffUser(username=username, password_hash=hash_password(password), role=role, active=True,
                     failed_logins=0, display_name=clean_display_name(display_name))
    session.add(user)
    session.flush()
    return user


def set_password(user: StaffUser, password: str) -> None:
    check_new_password(password)
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None


# A locked account still accepts its right password from an address that failed against it fewer times than
# this during the lock (the real staff member at another desk, allowed one typo); the attacking addresses are
# refused. See docs/staff-console.md, "Login".
SUSPECT_FAILURES = 2


class Marks(Protocol):
    """Failed logins per account from the current address (bot/staff/throttle.FailureMarks)."""

    def count(self, user_id: int) -> int: ...

    def add(self, user_id: int) -> None: ...


@dataclass
class LoginResult:
    user: StaffUser | None
    reason: str = ""  # "" on success; "invalid" or "locked" (for the audit log only: the answer is the same)


def authenticate(session: Session, username: str, password: str, marks: Marks | None = None) -> LoginResult:
    """Check a login. Exactly one argon2 verification on every path (unknown, wrong, locked, right), so the
    time taken tells nothing. The max-th failure locks the account for the lockout period; while locked, the
    account refuses the addresses that failed against it (all addresses when `marks` is None) and still lets
    its right password in from any other address."""
    query = select(StaffUser).where(StaffUser.username == username.strip())
    user = session.execute(query).scalar_one_or_none()
    known = user is not None and bool(user.active)
    try:
        right = _hasher.verify(user.password_hash if known else _dummy_hash(), password) and known
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        right = False
    if not known:
        return LoginResult(None, "invalid")
    now = _now()
    locked = bool(user.locked_until and user.locked_until > now)
    if locked and (marks is None or marks.count(user.id) >= SUSPECT_FAILURES):
        if marks is not None:
            marks.add(user.id)
        return LoginResult(None, "locked")
    if not right:
        if user.locked_until and user.locked_until <= now:
            user.failed_logins, user.locked_until = 0, None  # the old lock has expired: count afresh
        user.failed_logins = (user.failed_logins or 0) + 1
        if marks is not None:
            marks.add(user.id)
        if user.failed_logins >= max_failed_logins():
            if not locked:
                user.locked_until = now + timedelta(minutes=lockout_minutes())
            return LoginResult(None, "locked")
        return LoginResult(None, "invalid")
    if not locked:  # count afresh; a login through a lock (from a clean address) leaves it on for the others
        user.failed_logins, user.locked_until = 0, None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return LoginResult(user)


def password_fingerprint(user: StaffUser) -> str:
    """Changes when the password changes, so existing sessions of that account end."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def load_secret_key() -> str:
    """CLINIC_SECRET_KEY, or a random key generated once and kept in var/secret_key (mode 0600)."""
    configured = settings()
    if secret(configured.secret_key):
        return secret(configured.secret_key)
    path = Path(configured.secret_key_file)
    if path.is_file():
        key = path.read_text().strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def pseudonym(secret: str, sender_id: str) -> str:
    """A keyed hash standing in for an erased sender id in the audit log (checkable, not reversible)."""
    return "erased:" + hmac.new(secret.encode(), sender_id.encode(), hashlib.sha256).hexdigest()[:24]
