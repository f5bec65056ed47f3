"""Request helpers every area of the console shares: the database session, the signed-in user, roles, audit."""
from __future__ import annotations

from functools import wraps
from typing import Any
from urllib.parse import urlparse

from flask import g, jsonify, render_template, request, session, url_for
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.staff import audit
from bot.staff.auth import password_fingerprint
from bot.staff.db import staff_engine
from bot.staff.models import StaffUser
from bot.staff.summaries import refresh_summaries

csrf = CSRFProtect()


def engine() -> Engine:
    return staff_engine()


def db_session() -> Session:
    """One ORM session per request (closed by the console's teardown)."""
    if "staff_db" not in g:
        g.staff_db = Session(bind=staff_engine(), future=True, expire_on_commit=False)
    return g.staff_db


def close_db_session() -> None:
    db = g.pop("staff_db", None)
    if db is not None:
        db.close()


def wants_json() -> bool:
    return request.path.startswith("/staff/api/") or request.is_json


def current_user() -> StaffUser | None:
    """The signed-in account; a session of a deactivated account or of an old password ends here."""
    uid = session.get("staff_uid")
    if uid is None:
        return None
    user = db_session().get(StaffUser, uid)
    if user is None or not user.active or session.get("staff_fp") != password_fingerprint(user):
        session.clear()
        return None
    return user


def error_page(message: str, status: int) -> Any:
    if wants_json():
        return jsonify(error=message), status
    return render_template("staff/error.html", message=message), status


def admin_required(view):
    """Only the admin role; the view is marked so the tests can list every admin-only route."""
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
    """Audit one action of the signed-in user (its own transaction)."""
    with engine().begin() as conn:
        audit.record(conn, g.user.username, action, target, detail)


def refresh() -> None:
    """Fold new conversation events into the summaries (bounded, so a page never waits long)."""
    refresh_summaries(engine(), max_batches=40)


def page_number() -> int:
    value = request.args.get("page", "1")
    return max(1, int(value)) if value.isdigit() else 1


def safe_next(target: str | None) -> str:
    """Only redirect back inside the console (no open redirect)."""
    if target:
        parsed = urlparse(target)
        if not parsed.scheme and not parsed.netloc and parsed.path.startswith("/staff/"):
            return target
    return url_for("staff.conversations.conversations")


def form_errors(form: Any) -> str:
    """A WTForms form's errors as one sentence for the error page."""
    return " ".join(f"{message}" for messages in form.errors.values() for message in messages)
