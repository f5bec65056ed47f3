"""A tiny stand-in action server for the fault tests: healthy on /health, but /webhook answers HTTP 500.

Run as `python -m tests.faults.fake_action_server --port N`. It logs each call it received, so a test can see
that Rasa really called it (and got the error) rather than never trying.
"""
from __future__ import annotations

import argparse
import json

from aiohttp import web


async def health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def webhook(request: web.Request) -> web.Response:
    body = await request.json()
    print(json.dumps({"called": body.get("next_action"), "sender": body.get("sender_id")}), flush=True)
    return web.json_response({"error": "the action crashed (fake server)"}, status=500)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_post("/webhook", webhook)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
