"""The live chats area: the queue of visitors waiting for a person, and one live conversation where a staff
member takes over, replies and hands back (bot/staff/handoff.py calls the Rasa server)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for

from bot.handoff import store
from bot.staff import handoff as service
from bot.staff.web import engine, error_page, record

bp = Blueprint("handoff", __name__)
NAV = ("Live chats", "staff.handoff.handoffs", False)
MAX_REPLY_CHARS = 2000


@bp.get("/handoffs")
def handoffs() -> Any:
    return render_template("staff/handoffs.html", rows=service.queue())


@bp.get("/api/handoffs")
def api_handoffs() -> Any:
    rows = service.queue()
    for row in rows:
        for key in ("requested_at", "taken_at"):
            row[key] = row[key].isoformat() + "Z" if row[key] else None
        row["live_url"] = url_for("staff.handoff.live", sender_id=row["conversation_id"])
    return jsonify(handoffs=rows)


@bp.get("/live/<path:sender_id>")
def live(sender_id: str) -> Any:
    with engine().connect() as conn:
        items = service.live_items(conn, sender_id)
    if not items:
        abort(404)
    record("view_conversation", sender_id)
    return render_template("staff/live.html", sender_id=sender_id, items=items, state=store.get(sender_id),
                           max_reply=MAX_REPLY_CHARS)


@bp.get("/api/live/<path:sender_id>")
def api_live(sender_id: str) -> Any:
    try:
        after = max(0, int(request.args.get("after", "0")))
    except ValueError:
        return error_page("after must be an event id", 400)
    with engine().connect() as conn:
        items = service.live_items(conn, sender_id, after)
    state = store.get(sender_id)
    return jsonify(items=items, state=state.state, staff_id=state.staff_id, red_flag_alert=state.red_flag_alert)


@bp.post("/live/<path:sender_id>/<operation>")
def operate(sender_id: str, operation: str) -> Any:
    if operation not in service.OPERATIONS:
        abort(404)
    text = (request.form.get("text") or "").strip()
    if operation == "reply" and not text:
        return error_page("Not sent: the reply is empty.", 400)
    if len(text) > MAX_REPLY_CHARS:
        return error_page(f"Not sent: a reply can be at most {MAX_REPLY_CHARS} characters.", 400)
    state = store.get(sender_id)
    if operation == "reply" and state.state == store.STAFF and state.staff_id != g.user.username:
        return error_page(f"Not sent: {state.staff_id} is handling this conversation; take it over first.", 409)
    result = service.operate(operation, sender_id, g.user, text)
    if result.ok:
        record(f"handoff_{operation}", sender_id)
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return jsonify(ok=result.ok, delivered=result.delivered, message=result.message), (200 if result.ok
                                                                                            else 409)
    flash(result.message)
    return redirect(url_for("staff.handoff.live", sender_id=sender_id))
