"""The public demo page of the clinic with the chat widget (/), and the widget's browser dependencies."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, render_template, send_from_directory

from bot.clinic_profile import clinic_profile
from bot.settings import settings

WEB_DIR = Path(__file__).resolve().parent
SOCKET_IO_DIST = WEB_DIR / "node_modules" / "socket.io-client" / "dist"

site = Blueprint("site", __name__)


@site.get("/")
def index() -> str:
    """The demo clinic page; the widget reads its settings (the Rasa URL) from a JSON block in the page.

    The browser connects to CLINIC_PUBLIC_RASA_URL when set (the Rasa server as visitors reach it, e.g.
    https://chat.clinic.example), else to RASA_URL (CLINIC_RASA_URL, set by `bot run` to the loopback server).
    """
    profile = clinic_profile()
    widget_config = {
        "rasaUrl": settings().public_rasa_url or current_app.config["RASA_URL"],
        "socketPath": current_app.config.get("RASA_SOCKET_PATH", "/socket.io"),
        "clinicName": profile.name,
        "emergencyNumber": profile.emergency_number,
        "storageKey": "clinic-chat",
    }
    return render_template("site/index.html", profile=profile, widget_config=widget_config)


@site.get("/vendor/socket.io.min.js")
def socket_io_client():
    """socket.io's browser client from node_modules (installed by scripts/web_deps.sh), never from a CDN."""
    if not (SOCKET_IO_DIST / "socket.io.min.js").is_file():
        abort(503, description="The chat widget's socket.io client is missing: run scripts/web_deps.sh.")
    return send_from_directory(SOCKET_IO_DIST, "socket.io.min.js", mimetype="text/javascript", max_age=3600)
