"""The escalations area: the queue (page and polled JSON), one escalation, and status/assignee/notes changes.

Every change goes through the escalations service (bot/escalations.py), which the action server uses too;
the change and its audit entry commit together.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for
from sqlalchemy.engine import Connection

from bot import escalations as service
from bot.staff import alerts, audit, queries
from bot.staff.forms import EscalationDatesForm, EscalationUpdateForm
from bot.staff.web import engine, error_page, record, refresh, safe_next

bp = Blueprint("escalations", __name__)
NAV = ("Escalations", "staff.escalations.escalations", False)


def escalation_json(row: dict[str, Any]) -> dict[str, Any]:
    row = alerts.with_target(row)
    data = {k: (v.isoformat() + "Z" if hasattr(v, "isoformat") else v) for k, v in row.items()}
    data["transcript_url"] = url_for("staff.conversations.transcript", sender_id=row["conversation_id"])
    data["edit_url"] = url_for("staff.escalations.escalation", escalation_id=row["id"])
    return data


def _queue(conn: Connection, status: str, dates: EscalationDatesForm) -> tuple[list[dict], dict[str, int]]:
    return ([alerts.with_target(r) for r in queries.escalations(conn, status, dates.start, dates.end)],
            queries.escalation_counts(conn, dates.start, dates.end))


@bp.get("/escalations")
def escalations() -> Any:
    refresh()
    status = request.args.get("status", "open")
    dates = EscalationDatesForm(request.args)
    today = service.utcnow().date()
    shortcuts = {"today": today.isoformat(), "yesterday": (today - timedelta(days=1)).isoformat()}
    page = {"status": status, "dates": dates, "shortcuts": shortcuts, "statuses": service.STATUSES}
    if not dates.validate():
        return render_template("staff/escalations.html", rows=[], counts={}, **page), 400
    with engine().connect() as conn:
        rows, counts = _queue(conn, status, dates)
    record("view_escalations", None, " ".join(f"{k}={v}" for k, v in {"status": status, **dates.as_args()}.items()))
    return render_template("staff/escalations.html", rows=rows, counts=counts, **page)


@bp.get("/api/escalations")
def api_escalations() -> Any:
    status = request.args.get("status", "open")
    dates = EscalationDatesForm(request.args)
    if not dates.validate():
        return jsonify(error=dates.error), 400
    with engine().connect() as conn:
        rows, counts = _queue(conn, status, dates)
    return jsonify(status=status, counts=counts, escalations=[escalation_json(r) for r in rows],
                   **dates.as_args())


def _update(escalation_id: int, form: EscalationUpdateForm) -> Any:
    """Validate and apply; returns the updated row, or an error response."""
    if not form.validate():
        return error_page(form.first_error(), 400)
    values = {k: v for k, v in form.sent().items() if k != "next"}
    with engine().begin() as conn:
        try:
            update = service.update_escalation(conn, escalation_id, values)
        except ValueError as error:
            return error_page(str(error), 400)
        if update is None:
            return error_page(f"no escalation {escalation_id}", 404)
        if update.changed:
            audit.record(conn, g.user.username, "update_escalation", update.row["conversation_id"],
                         f"escalation {escalation_id}: " + ", ".join(update.changed)
                         + (f" -> {update.row['status']}" if "status" in update.changed else ""))
    return update.row


@bp.get("/escalations/<int:escalation_id>")
def escalation(escalation_id: int) -> Any:
    with engine().connect() as conn:
        row = service.escalation_row(conn, escalation_id)
    if row is None:
        abort(404)
    record("view_escalation", row["conversation_id"], f"escalation {escalation_id}")
    return render_template("staff/escalation.html", row=row, statuses=service.STATUSES)


@bp.post("/escalations/<int:escalation_id>")
def escalation_update(escalation_id: int) -> Any:
    form = EscalationUpdateForm(request.form)
    row = _update(escalation_id, form)
    if not isinstance(row, dict):
        return row
    flash(f"Escalation {escalation_id} saved ({row['status']}).")
    return redirect(safe_next(form.next.data) if form.next.data
                    else url_for("staff.escalations.escalation", escalation_id=escalation_id))


@bp.post("/api/escalations/<int:escalation_id>")
def api_escalation_update(escalation_id: int) -> Any:
    try:
        form = EscalationUpdateForm.from_json(request.get_json(silent=True))
    except ValueError as error:
        return jsonify(error=f"{error}: status, assignee and/or notes"), 400
    row = _update(escalation_id, form)
    if not isinstance(row, dict):
        return row
    return jsonify(escalation=escalation_json(row))
