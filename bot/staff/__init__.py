"""The staff console at /staff/: one blueprint per area (bot/staff/blueprints.py) under a guarded parent."""
from __future__ import annotations

from flask import Flask


def init_staff(app: Flask) -> None:
    """Register the console on a Flask app: secret key, cookie settings, CSRF, throttling, every area."""
    from bot.staff.console import init_app

    init_app(app)
