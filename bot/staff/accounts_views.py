"""The accounts area (admin): list, create and change staff accounts; each change audited."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from bot.escalations import utcnow
from bot.staff.accounts import apply_action
from bot.staff.auth import AccountError, create_user
from bot.staff.forms import UserActionForm, UserCreateForm
from bot.staff.models import ROLES, StaffUser
from bot.staff.web import admin_required, db_session, record

bp = Blueprint("accounts", __name__)
NAV = ("Accounts", "staff.accounts.users", True)


@bp.get("/users")
@admin_required
def users() -> Any:
    rows = db_session().execute(select(StaffUser).order_by(StaffUser.username)).scalars().all()
    return render_template("staff/users.html", users=rows, roles=ROLES, now=utcnow())


@bp.post("/users")
@admin_required
def users_create() -> Any:
    form = UserCreateForm(request.form)
    if not form.validate():
        flash(f"Not created: {form.first_error()}.")
        return redirect(url_for("staff.accounts.users"))
    db = db_session()
    try:
        user = create_user(db, form.username.data, form.password.data, form.role.data, form.display_name.data)
        db.commit()
    except AccountError as error:
        db.rollback()
        flash(f"Not created: {error}.")
        return redirect(url_for("staff.accounts.users"))
    record("create_user", user.username, f"role={user.role}")
    flash(f"Created {user.username} ({user.role}).")
    return redirect(url_for("staff.accounts.users"))


@bp.post("/users/<int:user_id>")
@admin_required
def users_update(user_id: int) -> Any:
    db = db_session()
    user = db.get(StaffUser, user_id)
    if user is None:
        abort(404)
    form = UserActionForm(request.form)
    action = form.action.data or ""
    try:
        if not form.validate():
            raise AccountError(form.first_error())
        apply_action(user, g.user, action, form.role.data or "", form.password.data or "",
                     form.display_name.data or "")
        db.commit()
    except AccountError as error:
        db.rollback()
        flash(f"Not changed: {error}.")
        return redirect(url_for("staff.accounts.users"))
    record(f"user_{action}", user.username, f"role={user.role}" if action == "role" else None)
    flash(f"{user.username}: {action} done.")
    return redirect(url_for("staff.accounts.users"))
