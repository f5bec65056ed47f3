"""Serve the web app with waitress: `python -m bot.web --host 127.0.0.1 --port 8000`."""
from __future__ import annotations

import argparse

from waitress import serve

from bot.web.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    serve(create_app(), host=args.host, port=args.port, threads=8)


if __name__ == "__main__":
    main()
