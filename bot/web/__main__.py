"""Serve the web app with waitress: `python -m bot.web --host 127.0.0.1 --port 8000`."""
from __future__ import annotations

import argparse

from waitress import serve

from bot.server.log_privacy import install as install_log_privacy
from bot.settings import settings
from bot.web.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    # no patient's words or contact details in web.log: Flask logs a failed request's traceback, whose SQL
    # error quotes its parameters (a staff search, a contact being edited); the same redaction as Rasa's
    install_log_privacy()
    app = create_app()
    # open escalations past their response target are re-notified from here (bot/staff/alerts.py)
    from bot.staff.alerts import start_renotifier
    from bot.staff.db import staff_engine

    start_renotifier(staff_engine, interval_s=settings().renotify_interval_s)
    serve(app, host=args.host, port=args.port, threads=8)


if __name__ == "__main__":
    main()
