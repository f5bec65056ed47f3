"""The staff console at /staff/: conversations, transcripts, escalations, analytics, exports and erasure."""
from __future__ import annotations

from flask import Flask


def init_staff(app: Flask) -> None:
    """Register the console on a Flask app: secret key, cookie settings, CSRF, the /staff/ blueprint."""
    from bot.staff.views import init_app

    init_app(app)
