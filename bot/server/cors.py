"""Start-up patch: cross-origin access only for the clinic's own origins (CLINIC_ALLOWED_ORIGINS), never `*`.

What Rasa does: `rasa.server.configure_cors(app, cors)` applies Sanic-CORS to every route with the `--cors`
origins (the launcher used to pass `*`, so any website could drive the bot from a visitor's browser and read
the answers), and its socket.io server is built with `cors_allowed_origins=[]`, which in python-engineio
means "no origin check at all", so a page on any site could open the chat's websocket.

What the clinic needs: one list of origins, CLINIC_ALLOWED_ORIGINS (comma-separated; `bot run` sets it to the
demo page's origin), used both by Sanic-CORS for the HTTP routes and by engineio's own origin check for the
socket.io path (engineio answers 400 to a foreign Origin on the polling and websocket handshakes; requests
without an Origin header, i.e. not from a browser, are unaffected). Sanic-CORS leaves the socket.io path to
engineio so that each response carries one Access-Control-Allow-Origin header, not two. Without the setting
the `--cors` origins are used; `*` in either is refused at start-up.

Test: tests/security/test_cors.py.
"""
from __future__ import annotations

import logging
import re
import sys
from typing import Any

from bot.server import app_hooks
from bot.server.security_settings import SecuritySettings

logger = logging.getLogger(__name__)
SOCKET_PATH = "/socket.io"  # Rasa's default socketio_path (credentials.yml does not change it)


def allowed_origins(cli_cors: str | list[str] | None, settings: SecuritySettings | None = None) -> list[str]:
    """The clinic's origins: CLINIC_ALLOWED_ORIGINS, else the --cors list; SystemExit on `*`."""
    settings = settings or SecuritySettings.from_env()
    if settings.allowed_origins:
        origins = list(settings.allowed_origins)
        source = "CLINIC_ALLOWED_ORIGINS"
    else:
        origins = [cli_cors] if isinstance(cli_cors, str) else list(cli_cors or [])
        origins = [o.strip().rstrip("/") for o in origins if o and o.strip()]
        source = "--cors"
    bad = [o for o in origins if "*" in o or not re.match(r"^https?://[^/\s]+$", o)]
    if bad:
        sys.exit(f"clinic bot: refusing to start the Rasa server: {source} holds {', '.join(map(repr, bad))}. "
                 "List the clinic's own origins instead, e.g. CLINIC_ALLOWED_ORIGINS=https://clinic.example "
                 "(scheme://host[:port], comma-separated; no '*', no path); see docs/security.md.")
    return origins


def configure_cors(app: Any, cors_origins: str | list[str] | None = "") -> None:
    """Replacement for rasa.server.configure_cors: the clinic's origins, socket.io left to engineio."""
    from sanic_cors import CORS

    origins = allowed_origins(cors_origins)
    app.config.CORS_AUTOMATIC_OPTIONS = True
    app.config.CORS_SUPPORTS_CREDENTIALS = True
    app.config.CORS_EXPOSE_HEADERS = "filename"
    app.ctx.clinic_origins = origins
    # Every path but socket.io's (engineio answers those, with its own origin check and headers).
    CORS(app, resources={rf"^(?!{re.escape(SOCKET_PATH)}(/|$)).*": {"origins": origins}}, automatic_options=True,
         always_send=False)  # no CORS headers for requests without an Origin (not from a browser)
    logger.info("cross-origin access allowed for: %s", ", ".join(origins) or "no origin")


def origin_checker(origins: list[str]) -> Any:
    allowed = frozenset(origins)

    def is_allowed(origin: str | None) -> bool:  # engineio calls it only when an Origin header is present
        return origin in allowed

    return is_allowed


def configure_socketio(app: Any, server: dict[str, Any]) -> None:
    """Give each socket.io server (Rasa's SocketIOInput and subclasses) engineio's own origin check."""
    origins = getattr(app.ctx, "clinic_origins", None)
    if origins is None:
        origins = allowed_origins(server.get("cors"))
    for channel in server.get("input_channels") or []:
        sio = getattr(channel, "sio", None)
        eio = getattr(sio, "eio", None)
        if eio is not None:
            eio.cors_allowed_origins = origin_checker(origins)
            path = (getattr(channel, "socketio_path", None) or SOCKET_PATH).rstrip("/")
            if path != SOCKET_PATH:
                logger.warning("socket.io on %s, not %s: both Sanic-CORS and engineio answer its CORS headers",
                               path, SOCKET_PATH)


def apply() -> None:
    import rasa.server

    rasa.server.configure_cors = configure_cors
    app_hooks.on_app(configure_socketio)
