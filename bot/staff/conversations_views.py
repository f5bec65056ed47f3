"""The conversations area: the filtered list (page and JSON), one transcript, review marks and tags."""
from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for

from bot.escalations import STATUSES
from bot.staff import conversations as service
from bot.staff import queries
from bot.staff.forms import ReviewForm, TagForm
from bot.staff.labels import domain_intents
from bot.staff.languages import LANGUAGE_CHOICES, languages_of
from bot.staff.web import engine, error_page, page_number, record, refresh

bp = Blueprint("conversations", __name__)
NAV = ("Conversations", "staff.conversations.conversations", False)


@bp.get("/")
def index() -> Any:
    return redirect(url_for("staff.conversations.conversations"))


@bp.get("/conversations")
def conversations() -> Any:
    refresh()
    filters = queries.ConversationFilters.from_args(request.args)
    page = page_number()
    with engine().connect() as conn:
        rows, total = queries.list_conversations(conn, filters, page)
        languages = languages_of(conn, [row["sender_id"] for row in rows])
        choices = queries.filter_choices(conn)
        open_escalations = queries.escalation_counts(conn).get("open", 0)
    pages = max(1, math.ceil(total / queries.PAGE_SIZE))
    return render_template("staff/conversations.html", rows=rows, total=total, page=page, pages=pages,
                           filters=filters, args=filters.as_args(), choices=choices,
                           open_escalations=open_escalations, languages=languages,
                           language_choices=LANGUAGE_CHOICES)


@bp.get("/api/conversations")
def api_conversations() -> Any:
    refresh()
    filters = queries.ConversationFilters.from_args(request.args)
    page = page_number()
    with engine().connect() as conn:
        rows, total = queries.list_conversations(conn, filters, page)
        languages = languages_of(conn, [row["sender_id"] for row in rows])
    for row in rows:
        row["languages"] = languages.get(row["sender_id"], [])
        for key in ("started_at", "last_event_at"):
            row[key] = row[key].isoformat() + "Z"
        row["transcript_url"] = url_for("staff.conversations.transcript", sender_id=row["sender_id"])
    return jsonify(total=total, page=page, per_page=queries.PAGE_SIZE, conversations=rows)


@bp.get("/transcript/<path:sender_id>")
def transcript(sender_id: str) -> Any:
    with engine().connect() as conn:
        data = service.conversation_page(conn, sender_id)
    if data is None:
        abort(404)
    record("view_conversation", sender_id)
    return render_template("staff/transcript.html", sender_id=sender_id, intents=domain_intents(),
                           statuses=STATUSES, **data)


@bp.post("/review")
def review() -> Any:
    form = ReviewForm(request.form)
    if not form.validate():
        return error_page(f"Not saved: {form.first_error()}.", 400)
    refresh()
    with engine().begin() as conn:
        service.set_reviewed(conn, g.user.username, form.sender_id.data, form.reviewed.data != "0",
                                   form.note.data)
    return redirect(url_for("staff.conversations.transcript", sender_id=form.sender_id.data))


@bp.post("/tag")
def tag() -> Any:
    form = TagForm(request.form)
    if not form.validate():
        return error_page(f"Not saved: {form.first_error()}.", 400)
    back = url_for("staff.conversations.transcript", sender_id=form.sender_id.data)
    if not form.tag.data:
        flash("A tag needs a name.")
        return redirect(back)
    with engine().begin() as conn:
        service.set_tag(conn, g.user.username, form.sender_id.data, form.tag.data, form.op.data == "remove")
    queries.forget_cached_choices()  # the new tag belongs in the filter drop-down now
    return redirect(back)
