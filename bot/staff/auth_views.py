"""Login and logout. Every failed login gets the same answer; each address is throttled (bot/staff/throttle.py)."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_limiter.errors import RateLimitExceeded

from bot.staff import audit
from bot.staff.auth import authenticate, lockout_minutes, password_fingerprint
from bot.staff.forms import LoginForm
from bot.staff.throttle import FailureMarks, client_address
from bot.staff.web import db_session, engine, safe_next

bp = Blueprint("auth", __name__)

# One answer for an unknown name, a wrong password and a locked account (same text, same 401, same work).
FAILED = ("Wrong user name or password, or the account is locked for a while after too many failed attempts. "
          "Try again later, or ask an admin to unlock it.")
THROTTLED = "Too many failed logins from this address. Wait a few minutes, then try again."


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The form, and its check. POSTs are limited per address (throttle.limit_login, applied per app)."""
    if request.method == "GET":
        return render_template("staff/login.html", error="")
    form = LoginForm(request.form)
    username, password = form.username.data or "", form.password.data or ""
    db = db_session()
    address = client_address()
    result = authenticate(db, username, password, FailureMarks(address, lockout_minutes()))
    db.commit()
    with engine().begin() as conn:
        audit.record(conn, username or "?", "login" if result.user else f"login_failed_{result.reason}",
                     None, address)
    if result.user is None:
        return render_template("staff/login.html", error=FAILED), 401
    session.clear()  # a fresh session (and CSRF token) after login: no session fixation
    session.permanent = True
    session["staff_uid"] = result.user.id
    session["staff_fp"] = password_fingerprint(result.user)
    return redirect(safe_next(request.args.get("next")))


@bp.errorhandler(RateLimitExceeded)
def throttled(error: RateLimitExceeded) -> Any:
    current_app.logger.warning("staff login throttled for an address (%s)", error.description)
    response = current_app.make_response((render_template("staff/login.html", error=THROTTLED), 429))
    response.headers["Retry-After"] = "60"
    return response


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect(url_for("staff.auth.login"))
