"""The /staff/ blueprint: every route needs a logged-in staff user; admin-only routes say so."""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache, wraps
from typing import Any
from urllib.parse import urlparse

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.escalations import Escalation, utcnow
from bot.staff import audit, charts, export, queries
from bot.staff.auth import (
    AccountError,
    authenticate,
    create_user,
    load_secret_key,
    password_fingerprint,
    set_password,
)
from bot.staff.db import staff_engine
from bot.staff.models import ROLES, MessageLabel, Review, StaffUser, Tag
from bot.staff.retention import erase_conversation
from bot.staff.summaries import SUMMARY, refresh_summaries

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates", static_folder="static",
               static_url_path="/static")
csrf = CSRFProtect()

# The only endpoints reachable without a login (the login form itself and its stylesheet).
PUBLIC_ENDPOINTS = {"staff.login", "staff.static"}
ESCALATION_STATUSES = ("open", "contacted", "closed")


def init_app(app: Flask) -> None:
    app.config.setdefault("SECRET_KEY", None)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = load_secret_key()
    # Flask's defaults are replaced (not setdefault: Flask has already set them); a value given in
    # create_app(config) other than Flask's default is kept.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if app.config.get("SESSION_COOKIE_SAMESITE") not in ("Lax", "Strict"):
        samesite = os.environ.get("CLINIC_COOKIE_SAMESITE", "Lax").capitalize()
        app.config["SESSION_COOKIE_SAMESITE"] = samesite if samesite in ("Lax", "Strict") else "Lax"
    if not app.config.get("SESSION_COOKIE_SECURE"):
        app.config["SESSION_COOKIE_SECURE"] = os.environ.get("CLINIC_SECURE_COOKIES", "") == "1"
    if app.config.get("PERMANENT_SESSION_LIFETIME") == timedelta(days=31):  # Flask's default
        app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(
            hours=float(os.environ.get("CLINIC_STAFF_SESSION_HOURS", "8")))
    # CSRF is checked by the console itself (below), so other parts of the web app keep their own rules.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the token lives as long as the session
    csrf.init_app(app)
    app.register_blueprint(bp)


# ---------------------------------------------------------------- helpers

def db_session() -> Session:
    if "staff_db" not in g:
        g.staff_db = Session(bind=staff_engine(), future=True, expire_on_commit=False)
    return g.staff_db


@bp.teardown_app_request
def _close_db(_error: BaseException | None) -> None:
    db = g.pop("staff_db", None)
    if db is not None:
        db.close()


def engine():
    return staff_engine()


def wants_json() -> bool:
    return request.path.startswith("/staff/api/") or request.is_json


def current_user() -> StaffUser | None:
    uid = session.get("staff_uid")
    if uid is None:
        return None
    user = db_session().get(StaffUser, uid)
    if user is None or not user.active or session.get("staff_fp") != password_fingerprint(user):
        session.clear()
        return None
    return user


@bp.before_request
def guard() -> Any:
    """Login on every route but the login form; CSRF on every state-changing request."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        if request.method == "POST":
            csrf.protect()
        return None
    user = current_user()
    if user is None:
        if wants_json():
            return jsonify(error="login required"), 401
        return redirect(url_for("staff.login", next=request.full_path))
    g.user = user
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    return None


@bp.after_request
def security_headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # patient data: never cached by the browser or a proxy
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"  # sender ids appear in console URLs
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
    return response


@bp.errorhandler(CSRFError)
def csrf_error(error: CSRFError) -> Any:
    if wants_json():
        return jsonify(error=f"CSRF check failed: {error.description}"), 400
    return render_template("staff/error.html", message=f"CSRF check failed: {error.description}. "
                           "Reload the page and try again."), 400


def admin_required(view):
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.user.role != "admin":
            if wants_json():
                return jsonify(error="admin role required"), 403
            return render_template("staff/error.html", message="This page needs the admin role."), 403
        return view(*args, **kwargs)

    wrapper.admin_only = True  # type: ignore[attr-defined] - read by the tests' role check
    return wrapper


def record(action: str, target: str | None = None, detail: str | None = None) -> None:
    with engine().begin() as conn:
        audit.record(conn, g.user.username, action, target, detail)


def refresh() -> None:
    refresh_summaries(engine(), max_batches=40)


@lru_cache(maxsize=1)
def domain_intents() -> list[str]:
    """The intents a message can be relabelled to, from the domain (domain/)."""
    from bot.paths import domain_dict

    domain = domain_dict()
    names = []
    for item in domain.get("intents") or []:
        names.append(next(iter(item)) if isinstance(item, dict) else str(item))
    return names


def page_number() -> int:
    value = request.args.get("page", "1")
    return max(1, int(value)) if value.isdigit() else 1


def safe_next(target: str | None) -> str:
    """Only redirect back inside the console (no open redirect)."""
    if target:
        parsed = urlparse(target)
        if not parsed.scheme and not parsed.netloc and parsed.path.startswith("/staff/"):
            return target
    return url_for("staff.conversations")


def escalation_json(row: dict[str, Any]) -> dict[str, Any]:
    data = {k: (v.isoformat() + "Z" if hasattr(v, "isoformat") else v) for k, v in row.items()}
    data["transcript_url"] = url_for("staff.transcript", sender_id=row["conversation_id"])
    data["edit_url"] = url_for("staff.escalation", escalation_id=row["id"])
    return data


@bp.app_template_filter("pct")
def pct(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


@bp.app_template_filter("utc")
def utc(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") else (value or "")


# ---------------------------------------------------------------- login

@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = ""
    if request.method == "POST":
        username = (request.form.get("username") or "")[:64]
        password = request.form.get("password") or ""
        db = db_session()
        result = authenticate(db, username, password)
        db.commit()
        with engine().begin() as conn:
            audit.record(conn, username or "?", "login" if result.user else f"login_failed_{result.reason}",
                         None, request.remote_addr)
        if result.user is not None:
            session.clear()  # a fresh session (and CSRF token) after login: no session fixation
            session.permanent = True
            session["staff_uid"] = result.user.id
            session["staff_fp"] = password_fingerprint(result.user)
            return redirect(safe_next(request.args.get("next")))
        error = ("Too many failed attempts: this account is locked for a while. Ask an admin or wait."
                 if result.reason == "locked" else "Wrong user name or password.")
    return render_template("staff/login.html", error=error), (401 if error else 200)


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect(url_for("staff.login"))


# ---------------------------------------------------------------- conversations

@bp.get("/")
def index() -> Any:
    return redirect(url_for("staff.conversations"))


@bp.get("/conversations")
def conversations() -> Any:
    refresh()
    filters = queries.ConversationFilters.from_args(request.args)
    page = page_number()
    with engine().connect() as conn:
        rows, total = queries.list_conversations(conn, filters, page)
        choices = queries.filter_choices(conn)
        open_escalations = queries.escalation_counts(conn).get("open", 0)
    pages = max(1, math.ceil(total / queries.PAGE_SIZE))
    return render_template("staff/conversations.html", rows=rows, total=total, page=page, pages=pages,
                           filters=filters, args=filters.as_args(), choices=choices,
                           open_escalations=open_escalations)


@bp.get("/api/conversations")
def api_conversations() -> Any:
    refresh()
    filters = queries.ConversationFilters.from_args(request.args)
    page = page_number()
    with engine().connect() as conn:
        rows, total = queries.list_conversations(conn, filters, page)
    for row in rows:
        for key in ("started_at", "last_event_at"):
            row[key] = row[key].isoformat() + "Z"
        row["transcript_url"] = url_for("staff.transcript", sender_id=row["sender_id"])
    return jsonify(total=total, page=page, per_page=queries.PAGE_SIZE, conversations=rows)


@bp.get("/transcript/<path:sender_id>")
def transcript(sender_id: str) -> Any:
    with engine().connect() as conn:
        items = queries.transcript(conn, sender_id)
        summary = queries.summary_for(conn, sender_id)
        escalations = [dict(r) for r in conn.execute(
            select(Escalation.__table__).where(Escalation.__table__.c.conversation_id == sender_id)
            .order_by(Escalation.__table__.c.id)).mappings()]
        tags = [r.tag for r in conn.execute(select(Tag.__table__.c.tag).where(
            Tag.__table__.c.sender_id == sender_id).order_by(Tag.__table__.c.tag))]
        reviews = [dict(r) for r in conn.execute(select(Review.__table__).where(
            Review.__table__.c.sender_id == sender_id).order_by(Review.__table__.c.id)).mappings()]
    if not items and not escalations:
        abort(404)
    record("view_conversation", sender_id)
    return render_template("staff/transcript.html", sender_id=sender_id, items=items, summary=summary,
                           escalations=escalations, tags=tags, reviews=reviews, intents=domain_intents(),
                           statuses=ESCALATION_STATUSES)


@bp.post("/review")
def review() -> Any:
    sender_id = request.form.get("sender_id", "")
    reviewed = request.form.get("reviewed", "1") == "1"
    note = (request.form.get("note") or "").strip()[:2000] or None
    refresh()
    with engine().begin() as conn:
        if reviewed:
            conn.execute(Review.__table__.insert().values(sender_id=sender_id, reviewer=g.user.username,
                                                          note=note, created_at=utcnow()))
        else:  # the audit log keeps the history; the reviews table says what stands now
            conn.execute(Review.__table__.delete().where(Review.__table__.c.sender_id == sender_id))
        conn.execute(SUMMARY.update().where(SUMMARY.c.sender_id == sender_id).values(reviewed=reviewed))
        audit.record(conn, g.user.username, "review" if reviewed else "unreview", sender_id)
    return redirect(url_for("staff.transcript", sender_id=sender_id))


@bp.post("/tag")
def tag() -> Any:
    sender_id = request.form.get("sender_id", "")
    name = " ".join((request.form.get("tag") or "").split()).lower()[:64]
    remove = request.form.get("op") == "remove"
    if not name:
        flash("A tag needs a name.")
        return redirect(url_for("staff.transcript", sender_id=sender_id))
    table = Tag.__table__
    with engine().begin() as conn:
        conn.execute(table.delete().where(table.c.sender_id == sender_id, table.c.tag == name))
        if not remove:
            conn.execute(table.insert().values(sender_id=sender_id, tag=name, created_by=g.user.username,
                                               created_at=utcnow()))
        audit.record(conn, g.user.username, "untag" if remove else "tag", sender_id, name)
    queries.forget_cached_choices()  # the new tag belongs in the filter drop-down now
    return redirect(url_for("staff.transcript", sender_id=sender_id))


@bp.post("/label")
def label() -> Any:
    """Mark one user message as misunderstood, with the intent it should have been."""
    intent = request.form.get("correct_intent", "")
    event_id = request.form.get("event_id", "")
    if intent not in domain_intents() or not event_id.isdigit():
        return render_template("staff/error.html", message="Pick a message and an intent from the list."), 400
    table = MessageLabel.__table__
    with engine().begin() as conn:
        message = queries.user_event(conn, int(event_id))
        if message is None:
            abort(404)
        conn.execute(table.delete().where(table.c.event_id == message["id"]))
        conn.execute(table.insert().values(
            event_id=message["id"], sender_id=message["sender_id"], text=message["text"],
            predicted_intent=message["intent"], correct_intent=intent, labelled_by=g.user.username,
            created_at=utcnow()))
        audit.record(conn, g.user.username, "label", message["sender_id"],
                     f"event {message['id']}: {message['intent']} -> {intent}")
    if request.form.get("back") == "labels":
        return redirect(url_for("staff.labels"))
    return redirect(url_for("staff.transcript", sender_id=message["sender_id"]) + f"#e{message['id']}")


@bp.post("/label/delete")
def label_delete() -> Any:
    label_id = request.form.get("label_id", "")
    table = MessageLabel.__table__
    with engine().begin() as conn:
        row = conn.execute(select(table).where(table.c.id == int(label_id or 0))).first()
        if row is None:
            abort(404)
        conn.execute(table.delete().where(table.c.id == row.id))
        audit.record(conn, g.user.username, "unlabel", row.sender_id, f"event {row.event_id}")
    return redirect(request.form.get("back") == "labels" and url_for("staff.labels")
                    or url_for("staff.transcript", sender_id=row.sender_id))


@bp.get("/labels")
def labels() -> Any:
    refresh()
    with engine().connect() as conn:
        rows = queries.labels(conn)
        low = queries.low_confidence_messages(conn, 100)
    labelled = {row["event_id"] for row in rows}
    return render_template("staff/labels.html", labels=rows, low=low, labelled=labelled,
                           intents=domain_intents())


@bp.get("/labels/export.yml")
@admin_required
def labels_export() -> Any:
    with engine().begin() as conn:
        body = export.nlu_yaml(conn)
        audit.record(conn, g.user.username, "export_nlu", None, f"{body.count(chr(10) + '    - ')} examples")
    return Response(body, mimetype="application/x-yaml",
                    headers={"Content-Disposition": "attachment; filename=misunderstood_nlu.yml"})


# ---------------------------------------------------------------- escalations

@dataclass
class EscalationDates:
    """The queue's optional date filter: escalations raised from date_from to date_to (inclusive, UTC days)."""

    date_from: str = ""
    date_to: str = ""
    start: datetime | None = None
    end: datetime | None = None
    error: str = ""

    @classmethod
    def from_args(cls, args: Any) -> EscalationDates:
        days: dict[str, datetime] = {}
        for name, label in (("date_from", "From"), ("date_to", "To")):
            value = (args.get(name) or "").strip()
            if value:
                day = queries.parse_day(value) if len(value) == 10 else None
                if day is None:
                    return cls(error=f"{label} must be a date written YYYY-MM-DD.")
                days[name] = day
        start, end = days.get("date_from"), days.get("date_to")
        if start and end and start > end:
            return cls(error="From must not be after To.")
        return cls(date_from=start.strftime("%Y-%m-%d") if start else "",
                   date_to=end.strftime("%Y-%m-%d") if end else "", start=start, end=end)

    def as_args(self) -> dict[str, str]:
        return {k: v for k, v in (("date_from", self.date_from), ("date_to", self.date_to)) if v}


@bp.get("/escalations")
def escalations() -> Any:
    refresh()
    status = request.args.get("status", "open")
    dates = EscalationDates.from_args(request.args)
    today = utcnow().date()
    shortcuts = {"today": today.isoformat(), "yesterday": (today - timedelta(days=1)).isoformat()}
    if dates.error:
        return render_template("staff/escalations.html", rows=[], status=status, counts={}, dates=dates,
                               shortcuts=shortcuts, statuses=ESCALATION_STATUSES), 400
    with engine().connect() as conn:
        rows = queries.escalations(conn, status, dates.start, dates.end)
        counts = queries.escalation_counts(conn, dates.start, dates.end)
    record("view_escalations", None, " ".join(f"{k}={v}" for k, v in {"status": status, **dates.as_args()}.items()))
    return render_template("staff/escalations.html", rows=rows, status=status, counts=counts, dates=dates,
                           shortcuts=shortcuts, statuses=ESCALATION_STATUSES)


@bp.get("/api/escalations")
def api_escalations() -> Any:
    status = request.args.get("status", "open")
    dates = EscalationDates.from_args(request.args)
    if dates.error:
        return jsonify(error=dates.error), 400
    with engine().connect() as conn:
        rows = queries.escalations(conn, status, dates.start, dates.end)
        counts = queries.escalation_counts(conn, dates.start, dates.end)
    return jsonify(status=status, counts=counts, escalations=[escalation_json(r) for r in rows],
                   **dates.as_args())


def _update_escalation(escalation_id: int, values: dict[str, Any]) -> dict[str, Any] | None:
    changes: dict[str, Any] = {}
    if "status" in values:
        if values["status"] not in ESCALATION_STATUSES:
            raise ValueError(f"status must be one of {', '.join(ESCALATION_STATUSES)}")
        changes["status"] = values["status"]
    for key, limit in (("assignee", 255), ("notes", 10000)):
        if key in values:
            changes[key] = (str(values[key] or "").strip()[:limit]) or None
    table = Escalation.__table__
    with engine().begin() as conn:
        row = conn.execute(select(table).where(table.c.id == escalation_id)).mappings().first()
        if row is None:
            return None
        if changes:
            changes["updated_at"] = utcnow()
            conn.execute(table.update().where(table.c.id == escalation_id).values(**changes))
            audit.record(conn, g.user.username, "update_escalation", row["conversation_id"],
                         f"escalation {escalation_id}: "
                         + ", ".join(k for k in changes if k != "updated_at")
                         + (f" -> {changes['status']}" if "status" in changes else ""))
        return dict(conn.execute(select(table).where(table.c.id == escalation_id)).mappings().first())


@bp.route("/escalations/<int:escalation_id>", methods=["GET", "POST"])
def escalation(escalation_id: int) -> Any:
    if request.method == "POST":
        values = {k: request.form[k] for k in ("status", "assignee", "notes") if k in request.form}
        try:
            row = _update_escalation(escalation_id, values)
        except ValueError as error:
            return render_template("staff/error.html", message=str(error)), 400
        if row is None:
            abort(404)
        flash(f"Escalation {escalation_id} saved ({row['status']}).")
        return redirect(safe_next(request.form.get("next")) if request.form.get("next")
                        else url_for("staff.escalation", escalation_id=escalation_id))
    table = Escalation.__table__
    with engine().connect() as conn:
        row = conn.execute(select(table).where(table.c.id == escalation_id)).mappings().first()
    if row is None:
        abort(404)
    record("view_escalation", row["conversation_id"], f"escalation {escalation_id}")
    return render_template("staff/escalation.html", row=dict(row), statuses=ESCALATION_STATUSES)


@bp.post("/api/escalations/<int:escalation_id>")
def api_escalation_update(escalation_id: int) -> Any:
    values = request.get_json(silent=True)
    if not isinstance(values, dict):
        return jsonify(error="send a JSON object with status, assignee and/or notes"), 400
    try:
        row = _update_escalation(escalation_id, values)
    except ValueError as error:
        return jsonify(error=str(error)), 400
    if row is None:
        return jsonify(error=f"no escalation {escalation_id}"), 404
    return jsonify(escalation=escalation_json(row))


# ---------------------------------------------------------------- analytics

_analytics_cache: dict[tuple[str, int], tuple[float, dict[str, Any], dict[str, str]]] = {}
ANALYTICS_TTL = 60.0  # seconds: drawing five charts costs ~0.5 s; several staff share one drawing a minute


@bp.get("/analytics")
def analytics() -> Any:
    refresh()
    days = request.args.get("days", "30")
    days_n = min(max(int(days), 1), 366) if days.isdigit() else 30
    key = (str(engine().url), days_n)
    cached = _analytics_cache.get(key)
    if cached is None or time.monotonic() - cached[0] > ANALYTICS_TTL:
        with engine().connect() as conn:
            numbers = queries.analytics(conn, days_n)
        cached = (time.monotonic(), numbers, charts.analytics_charts(numbers))
        _analytics_cache[key] = cached
    _, numbers, svgs = cached
    return render_template("staff/analytics.html", numbers=numbers, charts=svgs,
                           age=int(time.monotonic() - cached[0]))


# ---------------------------------------------------------------- patients' rights (admin)

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
    sender_id = request.form.get("sender_id", "")
    if not sender_id or request.form.get("confirm", "") != sender_id:
        flash("Not erased: type the conversation id exactly to confirm.")
        return redirect(url_for("staff.erase_confirm", sender_id=sender_id or "-"))
    with engine().begin() as conn:
        deleted = erase_conversation(conn, sender_id, current_app.config["SECRET_KEY"], g.user.username)
    flash(f"Erased: {sum(deleted.values())} rows deleted.")
    return redirect(url_for("staff.conversations"))


@bp.get("/audit")
@admin_required
def audit_log() -> Any:
    with engine().connect() as conn:
        rows = audit.entries(conn, page_number(), actor=request.args.get("actor", ""),
                             action=request.args.get("action", ""), target=request.args.get("target", ""))
    return render_template("staff/audit.html", rows=rows, page=page_number(), args=request.args)


# ---------------------------------------------------------------- accounts (admin)

@bp.get("/users")
@admin_required
def users() -> Any:
    rows = db_session().execute(select(StaffUser).order_by(StaffUser.username)).scalars().all()
    return render_template("staff/users.html", users=rows, roles=ROLES, now=utcnow())


@bp.post("/users")
@admin_required
def users_create() -> Any:
    db = db_session()
    try:
        user = create_user(db, request.form.get("username", ""), request.form.get("password", ""),
                           request.form.get("role", "staff"))
        db.commit()
    except AccountError as error:
        db.rollback()
        flash(f"Not created: {error}.")
        return redirect(url_for("staff.users"))
    record("create_user", user.username, f"role={user.role}")
    flash(f"Created {user.username} ({user.role}).")
    return redirect(url_for("staff.users"))


@bp.post("/users/<int:user_id>")
@admin_required
def users_update(user_id: int) -> Any:
    db = db_session()
    user = db.get(StaffUser, user_id)
    if user is None:
        abort(404)
    action = request.form.get("action", "")
    try:
        if action == "unlock":
            user.failed_logins, user.locked_until = 0, None
        elif action in ("deactivate", "activate"):
            if user.id == g.user.id:
                raise AccountError("you cannot deactivate your own account")
            user.active = action == "activate"
        elif action == "role":
            role = request.form.get("role", "")
            if role not in ROLES:
                raise AccountError(f"unknown role {role!r}")
            if user.id == g.user.id and role != "admin":
                raise AccountError("you cannot remove your own admin role")
            user.role = role
        elif action == "password":
            set_password(user, request.form.get("password", ""))
        else:
            raise AccountError(f"unknown action {action!r}")
        db.commit()
    except AccountError as error:
        db.rollback()
        flash(f"Not changed: {error}.")
        return redirect(url_for("staff.users"))
    record(f"user_{action}", user.username, f"role={user.role}" if action == "role" else None)
    flash(f"{user.username}: {action} done.")
    return redirect(url_for("staff.users"))
