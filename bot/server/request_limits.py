"""Start-up patch: a small request body limit on every route (413, JSON) and a per-address REST rate limit
(429 with Retry-After), shared through Redis by several Rasa servers.

What Rasa does: nothing of its own; Sanic's REQUEST_MAX_SIZE defaults to 100 MB, so a 2 MB REST body was
read, parsed and run through the NLU pipeline. Sanic answers an oversized body with a plain 413 page. There
is no rate limit.

What the clinic needs:
- REQUEST_MAX_SIZE = CLINIC_MAX_BODY_BYTES (64 KB by default; no channel sends more: a WhatsApp or Telegram
  update is a few KB and a patient's message is cut at 50,000 characters by triage anyway) on every route,
  webhooks included, also for chunked bodies (Sanic counts while reading); the same bound for websocket
  frames and engineio's packets. The 413 says so in JSON: {"error": ..., "status": 413, "limit_bytes": N}.
- Per-address moving-window limit on /webhooks/rest/ (the `limits` library, Flask-Limiter's engine):
  CLINIC_REST_ADDRESS_RATE_LIMIT (e.g. `60/minute;600/hour`), by default 60/minute whenever REST is protected
  (beyond loopback or production, see rest_auth) and off for the open loopback REST of `make run` and the
  tests unless set. Counted before the token check, so guessing tokens is limited too. Storage is Redis
  when CLINIC_REDIS_URL is set (every server behind the load balancer shares one budget), else memory. If
  Redis fails the request is let through and an error logged: urgent advice must not depend on Redis.
  The address is Sanic's `request.remote_addr` (the client behind a proxy when SANIC_PROXIES_COUNT or
  SANIC_REAL_IP_HEADER is set), else the peer address.
- JSON bodies (any route but socket.io) nested deeper than 32 levels get a clear 400: Rasa deep-copies a
  REST message's metadata and failed with RecursionError around 300 levels, answering an empty 200 and
  storing nothing (found by tests/security/test_fuzz_rest.py).

Test: tests/security/test_limits.py.
"""
from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

from bot.server import app_hooks
from bot.server.security_settings import SecuritySettings

logger = logging.getLogger(__name__)

REST_PREFIX = "/webhooks/rest/"
REDIS_TIMEOUT = 0.5  # seconds; a slow Redis must not hold a patient's message for long
MAX_JSON_DEPTH = 32  # platforms' payloads nest about 8 deep; Rasa deep-copies metadata and fails near 300
SOCKET_PREFIX = "/socket.io"


class AddressRateLimiter:
    """A moving-window limit per client address over one or more `limits` items ("60/minute;600/hour")."""

    def __init__(self, limit: str, storage_url: str | None = None, namespace: str = "clinic-rest") -> None:
        from limits import parse_many
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        try:
            self.items = parse_many(limit)
        except ValueError as error:
            raise ValueError(f"CLINIC_REST_ADDRESS_RATE_LIMIT={limit!r} is not a rate limit such as '60/minute' or "
                             "'60/minute;600/hour'") from error
        options = {"socket_timeout": REDIS_TIMEOUT, "socket_connect_timeout": REDIS_TIMEOUT} if storage_url else {}
        self.storage = storage_from_string(storage_url or "memory://", **options)
        self.shared = storage_url is not None
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.namespace = namespace

    def hit(self, address: str) -> int | None:
        """Count one request; None if allowed, else the seconds until the address may try again."""
        for item in self.items:
            if not self.limiter.hit(item, self.namespace, address):
                reset_at, _remaining = self.limiter.get_window_stats(item, self.namespace, address)
                return max(1, math.ceil(reset_at - time.time()))
        return None

    async def hit_async(self, address: str) -> int | None:
        if not self.shared:
            return self.hit(address)  # memory: no I/O
        return await asyncio.get_running_loop().run_in_executor(None, self.hit, address)


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True if a JSON body nests arrays/objects deeper than `limit` (brackets inside strings do not count)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:    # backslash
                escaped = True
            elif byte == 0x22:    # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def client_address(request: Any) -> str:
    return request.remote_addr or request.ip or "unknown"


def too_large_handler(limit: int) -> Any:
    from sanic import response

    def handle(request: Any, exception: Exception) -> Any:
        return response.json({"error": f"request body too large: at most {limit} bytes", "status": 413,
                              "limit_bytes": limit}, status=413)

    return handle


def configure(app: Any, server: dict[str, Any]) -> None:
    from sanic import response
    from sanic.exceptions import PayloadTooLarge

    settings = SecuritySettings.from_env()
    limit = settings.max_body_bytes
    app.config.REQUEST_MAX_SIZE = limit
    app.config.WEBSOCKET_MAX_SIZE = limit
    app.error_handler.add(PayloadTooLarge, too_large_handler(limit))
    for channel in server.get("input_channels") or []:
        eio = getattr(getattr(channel, "sio", None), "eio", None)
        if eio is not None:
            eio.max_http_buffer_size = limit

    @app.on_request
    async def json_depth_limit(request: Any) -> Any:
        body = request.body or b""
        if not body or request.path.startswith(SOCKET_PREFIX) or body.lstrip()[:1] not in (b"{", b"["):
            return None
        if json_too_deep(body):
            return response.json({"error": f"JSON nested deeper than {MAX_JSON_DEPTH} levels", "status": 400},
                                 status=400)
        return None

    rate = settings.rate_limit_for(server.get("interface"))
    logger.info("request bodies limited to %d bytes; REST rate limit per address: %s%s", limit, rate or "off",
                " (shared in Redis)" if rate and settings.redis_url else "")
    if not rate:
        return
    limiter = AddressRateLimiter(rate, settings.redis_url)

    @app.on_request
    async def rest_rate_limit(request: Any) -> Any:
        if not request.path.startswith(REST_PREFIX):
            return None
        try:
            retry_after = await limiter.hit_async(client_address(request))
        except Exception as error:  # noqa: BLE001 - a storage outage must not block the bot's answers
            logger.error("REST rate limit storage failed (%s: %s); request let through",
                         type(error).__name__, error)
            return None
        if retry_after is None:
            return None
        logger.warning("REST rate limit reached for an address; retry after %d s", retry_after)
        return response.json({"error": f"too many requests from this address; retry after {retry_after} s",
                              "status": 429, "retry_after": retry_after}, status=429,
                             headers={"Retry-After": str(retry_after)})


def apply() -> None:
    app_hooks.on_app(configure)
