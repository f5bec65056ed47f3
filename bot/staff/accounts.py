"""The accounts area's service: what an admin may do to an account (unlock, (de)activate, role, password,
the display name visitors see)."""
from __future__ import annotations

from bot.staff.auth import AccountError, clean_display_name, set_password
from bot.staff.models import ROLES, StaffUser


def apply_action(user: StaffUser, actor: StaffUser, action: str, role: str = "", password: str = "",
                 display_name: str = "") -> None:
    """Change `user` as `actor` asked; AccountError says why not (the caller rolls back)."""
    if action == "unlock":
        user.failed_logins, user.locked_until = 0, None
    elif action in ("deactivate", "activate"):
        if user.id == actor.id:
            raise AccountError("you cannot deactivate your own account")
        user.active = action == "activate"
    elif action == "role":
        if role not in ROLES:
            raise AccountError(f"unknown role {role!r}")
        if user.id == actor.id and role != "admin":
            raise AccountError("you cannot remove your own admin role")
        user.role = role
    elif action == "password":
        set_password(user, password)
    elif action == "display_name":
        user.display_name = clean_display_name(display_name)
    else:
        raise AccountError(f"unknown action {action!r}")
