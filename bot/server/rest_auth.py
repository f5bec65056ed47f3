"""Start-up patch: the REST channel needs `Authorization: Bearer <CLINIC_REST_TOKEN>` once it is reachable
by others, and Rasa's HTTP API never runs unprotected.

What Rasa does: its REST channel (/webhooks/rest/webhook) accepts any caller with any `sender`, so whoever
reaches the port can read and write any conversation. Its HTTP API (`--enable-api`: trackers, model
replacement) is protected only if `--auth-token` or `--jwt-secret` is given.

What the clinic needs: REST stays open for `make run`, the test suite and local scripts while the server
listens on loopback only; it needs the bearer token (compared in constant time, bot/secret_compare.py) when the server
listens beyond loopback (`--interface` other than 127.0.0.1, ::1 or localhost; Rasa's default is 0.0.0.0),
when CLINIC_ENV=production, or when CLINIC_REQUIRE_REST_TOKEN=1. A loopback server that receives a request
through a proxy (X-Forwarded-For, Forwarded or X-Real-IP present) treats it as remote too. A missing or short
token then stops the server at start-up with a message saying what to set. `--enable-api` without
`--auth-token`/`--jwt-secret` is refused at start-up (the launcher does not enable the API).

Test: tests/security/test_rest_auth.py.
"""
from __future__ import annotations

import logging
import sys
from typing import Any

from bot.secret_compare import same_secret
from bot.server import app_hooks
from bot.server.security_settings import MIN_TOKEN_CHARS, SecuritySettings, is_loopback_interface

logger = logging.getLogger(__name__)

REST_PREFIX = "/webhooks/rest/"
PROXY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")
TOKEN_HELP = ("generate one with `python -c 'import secrets; print(secrets.token_urlsafe(32))'` and give it to "
              "the trusted integration; see docs/security.md")


def start_problem(settings: SecuritySettings, server: dict[str, Any]) -> str | None:
    """Why the server must not start with these settings, or None."""
    interface = server.get("interface")
    if server.get("enable_api") and not (server.get("auth_token") or server.get("jwt_secret")):
        return ("Rasa's HTTP API (--enable-api) reads and rewrites every conversation and replaces the model: "
                "start it with --auth-token or --jwt-secret, or leave --enable-api off (the clinic bot does not "
                "need it).")
    if not settings.rest_protected(interface):
        return None
    reasons = [name for name, on in (("CLINIC_ENV=production", settings.production),
                                     ("CLINIC_REQUIRE_REST_TOKEN=1", settings.require_rest_token),
                                     (f"--interface {interface} reaches beyond loopback",
                                      not is_loopback_interface(interface))) if on]
    if not settings.rest_token:
        return (f"The REST channel needs a token here ({'; '.join(reasons)}): set CLINIC_REST_TOKEN; "
                f"{TOKEN_HELP}. (Only a server on --interface 127.0.0.1 outside production runs REST open.)")
    if len(settings.rest_token) < MIN_TOKEN_CHARS:
        return (f"CLINIC_REST_TOKEN is {len(settings.rest_token)} characters; use at least {MIN_TOKEN_CHARS}: "
                f"{TOKEN_HELP}.")
    return None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, else None."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def token_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison of the presented token with the configured one."""
    return same_secret(given, expected)


def through_proxy(headers: Any) -> bool:
    return any(headers.get(name) for name in PROXY_HEADERS)


def unauthorized(reason: str) -> Any:
    from sanic import response

    return response.json({"error": reason, "status": 401}, status=401,
                         headers={"WWW-Authenticate": 'Bearer realm="clinic-rest"'})


def check_start(server: dict[str, Any]) -> None:
    problem = start_problem(SecuritySettings.from_env(), server)
    if problem:
        sys.exit(f"clinic bot: refusing to start the Rasa server. {problem}")


def configure(app: Any, server: dict[str, Any]) -> None:
    """Add the token check in front of every /webhooks/rest/ route."""
    settings = SecuritySettings.from_env()
    protected = settings.rest_protected(server.get("interface"))
    token = settings.rest_token
    logger.info("REST channel: %s", "bearer token required" if protected else
                "open on loopback (requests through a proxy need the token)")

    @app.on_request
    async def rest_token_check(request: Any) -> Any:
        if not request.path.startswith(REST_PREFIX):
            return None
        if not protected and not through_proxy(request.headers):
            return None
        if token is None:
            return unauthorized("REST is open on loopback only; this request came through a proxy and the "
                                "server has no CLINIC_REST_TOKEN")
        if not token_matches(bearer_token(request.headers.get("authorization")), token):
            logger.warning("REST request refused: missing or wrong bearer token")
            return unauthorized("missing or wrong bearer token (Authorization: Bearer <CLINIC_REST_TOKEN>)")
        return None


def apply() -> None:
    app_hooks.on_start(check_start)
    app_hooks.on_app(configure)
