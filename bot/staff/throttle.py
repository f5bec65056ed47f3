"""Login throttling: a per-address limit (Flask-Limiter) and per-account failure marks for each address.

Storage is Redis when CLINIC_REDIS_URL is set (shared by every web worker and machine), memory otherwise.
Two things are kept there:
- the per-address limit on failed logins (CLINIC_STAFF_LOGIN_LIMIT, default "10 per minute;50 per hour"):
  one more attempt past it gets 429 whatever the user name, so guessing is slow and tells nothing;
- failure marks per (account, address), for the lockout window: a locked account refuses only the addresses
  that failed against it (see bot/staff/auth.py), so an attacker's bad passwords cannot keep staff out.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, request
from flask.wrappers import Response
from flask_limiter import Limiter
from limits import parse

from bot.settings import redis_url, settings

logger = logging.getLogger(__name__)
EXTENSION = "staff_login_limiter"
MARKS_PER_WINDOW = 1000  # a ceiling only: marks are counted, never refused


def client_address() -> str:
    """The address the request came from (behind a proxy, configure the proxy to set it; see the docs)."""
    return request.remote_addr or "unknown"


def login_limit() -> str:
    """CLINIC_STAFF_LOGIN_LIMIT: failed logins one address may make, in the `limits` notation."""
    return settings().staff_login_limit  # checked by the settings catalogue (bot/settings.py)


def failed_login(response: Response) -> bool:
    """Only failed attempts count towards the per-address limit (a 401 from the login form)."""
    return response.status_code == 401


def init_limiter(app: Flask) -> Limiter:
    """A limiter for this app (its own state: apps never share counts or a dead-store flag), storage from
    CLINIC_REDIS_URL (or memory); RATELIMIT_* values given in the app's config win. If Redis goes away, the
    app falls back to its own memory: still throttled, never unthrottled."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url() or "memory://")
    app.config.setdefault("RATELIMIT_ENABLED", True)
    login_limit()  # a bad CLINIC_STAFF_LOGIN_LIMIT stops the start with a clear error (never fails open)
    limiter = Limiter(key_func=client_address, strategy="moving-window", headers_enabled=False,
                      in_memory_fallback_enabled=True)
    limiter.init_app(app)
    app.extensions[EXTENSION] = limiter
    return limiter


def limit_login(app: Flask, endpoint: str = "staff.auth.login") -> None:
    """Put the per-address limit on the login view (its POSTs; only failed ones count)."""
    view = app.view_functions[endpoint]
    app.view_functions[endpoint] = app.extensions[EXTENSION].limit(
        login_limit, methods=["POST"], deduct_when=failed_login)(view)


def app_limiter() -> Limiter:
    return current_app.extensions[EXTENSION]


class FailureMarks:
    """Failed logins against one account from one address within the lockout window (in the limiter's store)."""

    def __init__(self, address: str, window_minutes: float) -> None:
        self.address = address
        seconds = max(1, int(window_minutes * 60))
        self.item = parse(f"{MARKS_PER_WINDOW} per {seconds} seconds")

    def _keys(self, user_id: int) -> tuple[str, str, str]:
        return ("staff-login-failures", str(user_id), self.address)

    def count(self, user_id: int) -> int:
        """Failures from this address; if the store cannot be read, as many as it takes to count as suspect
        (a locked account then refuses every address, as a plain lockout would)."""
        try:
            _, remaining = app_limiter().limiter.get_window_stats(self.item, *self._keys(user_id))
        except Exception:  # noqa: BLE001 - Redis down: fail closed for locked accounts only
            logger.warning("login failure marks unavailable (rate-limit store unreachable)", exc_info=True)
            return MARKS_PER_WINDOW
        return MARKS_PER_WINDOW - remaining

    def add(self, user_id: int) -> None:
        try:
            app_limiter().limiter.hit(self.item, *self._keys(user_id))
        except Exception:  # noqa: BLE001 - the failure still counts on the account itself
            logger.warning("could not record a login failure mark (rate-limit store unreachable)", exc_info=True)
