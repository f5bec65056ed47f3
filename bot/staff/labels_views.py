"""The labels area: misunderstood messages, labelling them, and the labelled ones as Rasa NLU data (admin)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for

from bot.staff import audit, export, queries
from bot.staff.forms import LabelDeleteForm, LabelForm
from bot.staff.labels import delete_label, domain_intents, label_message
from bot.staff.web import admin_required, engine, refresh

bp = Blueprint("labels", __name__)
NAV = ("Misunderstood", "staff.labels.labels", False)


@bp.post("/label")
def label() -> Any:
    """Mark one user message as misunderstood, with the intent it should have been."""
    form = LabelForm(request.form, intents=domain_intents())
    if not form.validate():
        return render_template("staff/error.html", message="Pick a message and an intent from the list."), 400
    with engine().begin() as conn:
        message = label_message(conn, g.user.username, form.event_id.data, form.correct_intent.data)
    if message is None:
        abort(404)
    if form.back.data == "labels":
        return redirect(url_for("staff.labels.labels"))
    return redirect(url_for("staff.conversations.transcript", sender_id=message["sender_id"]) + f"#e{message['id']}")


@bp.post("/label/delete")
def label_delete() -> Any:
    form = LabelDeleteForm(request.form)
    if not form.validate():
        abort(404)
    with engine().begin() as conn:
        row = delete_label(conn, g.user.username, form.label_id.data)
    if row is None:
        abort(404)
    if form.back.data == "labels":
        return redirect(url_for("staff.labels.labels"))
    return redirect(url_for("staff.conversations.transcript", sender_id=row.sender_id))


@bp.get("/labels")
def labels() -> Any:
    refresh()
    with engine().connect() as conn:
        rows = queries.labels(conn)
        low = queries.low_confidence_messages(conn, 100)
    labelled = {row["event_id"] for row in rows}
    return render_template("staff/labels.html", labels=rows, low=low, labelled=labelled,
                           intents=domain_intents())


@bp.get("/labels/feedback.csv")
@admin_required
def feedback_export() -> Any:
    """Visitors' ratings of answers (topic, sources, helpful), beside the misunderstood messages' labels."""
    import csv
    import io

    from bot.feedback import all_feedback

    with engine().begin() as conn:
        rows = all_feedback(conn)
        audit.record(conn, g.user.username, "export_feedback", None, f"{len(rows)} ratings")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["created_at", "conversation_id", "channel", "topic", "sources", "helpful"])
    for row in rows:
        writer.writerow([row["created_at"].isoformat() + "Z", row["conversation_id"], row["channel"] or "",
                         row["topic"] or "", row["sources"], "yes" if row["helpful"] else "no"])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=answer_feedback.csv"})


@bp.get("/labels/export.yml")
@admin_required
def labels_export() -> Any:
    with engine().begin() as conn:
        body = export.nlu_yaml(conn)
        audit.record(conn, g.user.username, "export_nlu", None, f"{body.count(chr(10) + '    - ')} examples")
    return Response(body, mimetype="application/x-yaml",
                    headers={"Content-Disposition": "attachment; filename=misunderstood_nlu.yml"})
