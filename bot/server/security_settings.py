"""The Rasa server's security settings, read from the environment in one place (see docs/security.md).

CLINIC_ENV                 `production` turns on every production check (unset: development)
CLINIC_REQUIRE_REST_TOKEN  `1`: the REST token is required even on loopback (default off)
CLINIC_REST_TOKEN          the bearer token for /webhooks/rest/ (at least 32 characters; unset: none)
CLINIC_ALLOWED_ORIGINS     comma-separated origins allowed cross-origin, HTTP and socket.io (`bot run`
                           sets the demo page's origin; unset and no --cors: no cross-origin access)
CLINIC_MAX_BODY_BYTES      largest request body on any route, 413 above it (default 65536)
CLINIC_REST_ADDRESS_RATE_LIMIT  per-address REST limit in `limits` notation, `;` for several, `off` for
                           none (default: 60/minute when REST is protected, off on open loopback REST);
                           the per-sender limits are the channels' (bot/channels/settings.py)
CLINIC_REDIS_URL           rate-limit storage shared by several Rasa servers (unset: in memory)
CLINIC_LOG_DEBUG           `1` lets DEBUG log records through on a developer's machine (never in production)
"""
from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass

TRUE_WORDS = {"1", "true", "yes", "on"}
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
DEFAULT_MAX_BODY_BYTES = 64 * 1024
DEFAULT_PROTECTED_RATE_LIMIT = "60/minute"
MIN_TOKEN_CHARS = 32


def is_loopback_interface(interface: str | None) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost; False for 0.0.0.0, a LAN address or a host name."""
    if not interface:
        return False
    host = interface.strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _flag(env: Mapping[str, str], name: str) -> bool:
    return (env.get(name) or "").strip().lower() in TRUE_WORDS


@dataclass(frozen=True)
class SecuritySettings:
    production: bool
    require_rest_token: bool
    rest_token: str | None
    allowed_origins: tuple[str, ...]
    max_body_bytes: int
    rest_rate_limit: str | None      # None: not set, use the default for the REST mode
    redis_url: str | None
    log_debug: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SecuritySettings:
        env = os.environ if env is None else env
        origins = tuple(o.strip().rstrip("/") for o in (env.get("CLINIC_ALLOWED_ORIGINS") or "").split(",")
                        if o.strip())
        raw_size = (env.get("CLINIC_MAX_BODY_BYTES") or "").strip()
        try:
            max_body = int(raw_size) if raw_size else DEFAULT_MAX_BODY_BYTES
        except ValueError as error:
            raise ValueError(f"CLINIC_MAX_BODY_BYTES must be a whole number of bytes, not {raw_size!r}") from error
        if max_body < 1024:
            raise ValueError(f"CLINIC_MAX_BODY_BYTES={max_body} is too small for any channel (use >= 1024)")
        return cls(
            production=(env.get("CLINIC_ENV") or "").strip().lower() in {"production", "prod"},
            require_rest_token=_flag(env, "CLINIC_REQUIRE_REST_TOKEN"),
            rest_token=(env.get("CLINIC_REST_TOKEN") or "").strip() or None,
            allowed_origins=origins,
            max_body_bytes=max_body,
            rest_rate_limit=(env.get("CLINIC_REST_ADDRESS_RATE_LIMIT") or "").strip() or None,
            redis_url=(env.get("CLINIC_REDIS_URL") or "").strip() or None,
            log_debug=_flag(env, "CLINIC_LOG_DEBUG"),
        )

    def rest_protected(self, interface: str | None) -> bool:
        """Does REST need the token? Yes beyond loopback, in production, or when asked to."""
        return self.production or self.require_rest_token or not is_loopback_interface(interface)

    def rate_limit_for(self, interface: str | None) -> str | None:
        """The per-address REST limit: the setting, else a default when REST is protected, else none."""
        if self.rest_rate_limit:
            return None if self.rest_rate_limit.lower() in {"off", "none", "0"} else self.rest_rate_limit
        return DEFAULT_PROTECTED_RATE_LIMIT if self.rest_protected(interface) else None
