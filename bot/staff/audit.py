"""The audit log: one row per staff action on patient data (view, export, erase, change) or on accounts."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.staff.models import AuditEntry

AUDIT = AuditEntry.__table__


def record(conn: Connection, actor: str, action: str, target: str | None = None,
           detail: str | None = None) -> None:
    """Append one audit entry (never updated, except that erasure pseudonymises the target)."""
    from bot.escalations import utcnow

    conn.execute(AUDIT.insert().values(at=utcnow(), actor=actor[:64], action=action[:64],
                                       target=(target or None) and target[:255], detail=detail))


def entries(conn: Connection, page: int = 1, per_page: int = 100, actor: str = "", action: str = "",
            target: str = "") -> list[dict[str, Any]]:
    query = select(AUDIT)
    if actor:
        query = query.where(AUDIT.c.actor == actor)
    if action:
        query = query.where(AUDIT.c.action == action)
    if target:
        query = query.where(AUDIT.c.target == target)
    query = query.order_by(AUDIT.c.id.desc()).limit(per_page).offset((max(page, 1) - 1) * per_page)
    return [dict(r) for r in conn.execute(query).mappings()]
