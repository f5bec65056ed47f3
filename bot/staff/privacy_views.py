"""The privacy area (admin): one person's data exported (JSON, CSV), erased everywhere, and the audit log.

The services are bot/staff/export.py (subject-access exports), bot/staff/retention.py (erasure and the
retention period, also `python -m bot staff retention`) and bot/staff/audit.py.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for

from bot.staff import audit, export, queries
from bot.staff.forms import EraseForm
from bot.staff.retention import erase_conversation
from bot.staff.web import admin_required, engine, page_number

bp = Blueprint("privacy", __name__)
NAV = ("Audit log", "staff.privacy.audit_log", True)


@bp.get("/export/<fmt>/<path:sender_id>")
@admin_required
def export_person(fmt: str, sender_id: str) -> Any:
    if fmt not in ("json", "csv"):
        abort(404)
    with engine().begin() as conn:
        body = export.person_json(conn, sender_id) if fmt == "json" else export.person_csv(conn, sender_id)
        audit.record(conn, g.user.username, f"export_{fmt}", sender_id)
    safe_name = "".join(c if c.isalnum() or c in "-_" else "_" for c in sender_id)[:80]
    mimetype = "application/json" if fmt == "json" else "text/csv"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename=conversation-{safe_name}.{fmt}"})


@bp.get("/erase/<path:sender_id>")
@admin_required
def erase_confirm(sender_id: str) -> Any:
    with engine().connect() as conn:
        summary = queries.summary_for(conn, sender_id)
        data = export.person_data(conn, sender_id)
    return render_template("staff/erase.html", sender_id=sender_id, summary=summary,
                           counts={k: len(v) for k, v in data.items() if isinstance(v, list)})


@bp.post("/erase")
@admin_required
def erase() -> Any:
    form = EraseForm(request.form)
    sender_id = form.sender_id.data or ""
    if not form.validate() or form.confirm.data != sender_id:
        flash("Not erased: type the conversation id exactly to confirm.")
        return redirect(url_for("staff.privacy.erase_confirm", sender_id=sender_id or "-"))
    with engine().begin() as conn:
        deleted = erase_conversation(conn, sender_id, current_app.config["SECRET_KEY"], g.user.username)
    flash(f"Erased: {sum(deleted.values())} rows deleted.")
    return redirect(url_for("staff.conversations.conversations"))


@bp.get("/audit")
@admin_required
def audit_log() -> Any:
    with engine().connect() as conn:
        rows = audit.entries(conn, page_number(), actor=request.args.get("actor", ""),
                             action=request.args.get("action", ""), target=request.args.get("target", ""))
    return render_template("staff/audit.html", rows=rows, page=page_number(), args=request.args)
