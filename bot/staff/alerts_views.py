"""The console's alert stream: new emergency and same-day escalations, pushed to every open console page.

GET /staff/api/alerts/stream is a server-sent event stream (`event: escalation`, `id:` the escalation id).
Each stream lasts about 25 s, then ends; the browser's EventSource reconnects by itself with Last-Event-ID,
so no server thread is held for ever and no escalation is missed between two streams.
"""
from __future__ import annotations

import json
import time
from typing import Any

from flask import Blueprint, Response, jsonify, request, stream_with_context, url_for

from bot.staff import alerts
from bot.staff.web import engine

bp = Blueprint("alerts", __name__)
STREAM_SECONDS = 25.0
POLL_SECONDS = 1.0


def _event(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "level": row["level"], "flags": row["flags"], "status": row["status"],
            "created_at": row["created_at"].isoformat() + "Z", "due_at": row["due_at"].isoformat() + "Z",
            "url": url_for("staff.escalations.escalation", escalation_id=row["id"])}


def _start_after() -> int:
    value = request.headers.get("Last-Event-ID") or request.args.get("after")
    if value is not None:
        try:
            return max(0, int(value))
        except ValueError:
            pass
    with engine().connect() as conn:
        return alerts.latest_id(conn)  # a new page: only what arrives from now on


@bp.get("/api/alerts")
def api_alerts() -> Any:
    after = _start_after() if (request.args.get("after") or request.headers.get("Last-Event-ID")) else 0
    with engine().connect() as conn:
        rows = alerts.urgent_since(conn, after)
    return jsonify(alerts=[_event(r) for r in rows if r["status"] == "open"])


@bp.get("/api/alerts/stream")
def stream() -> Any:
    after = _start_after()

    @stream_with_context
    def events():
        last = after
        yield f"retry: 2000\nevent: ready\ndata: {json.dumps({'after': last})}\n\n"
        deadline = time.monotonic() + STREAM_SECONDS
        while time.monotonic() < deadline:
            with engine().connect() as conn:
                rows = alerts.urgent_since(conn, last)
            for row in rows:
                last = row["id"]
                if row["status"] == "open":
                    yield f"id: {row['id']}\nevent: escalation\ndata: {json.dumps(_event(row))}\n\n"
            time.sleep(POLL_SECONDS)

    return Response(events(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
