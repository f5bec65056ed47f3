"""Escalation alerts that get noticed: response targets per level, the live feed, and re-notification.

Targets (settings, minutes): CLINIC_TARGET_EMERGENCY_MINUTES (5), CLINIC_TARGET_SAME_DAY_MINUTES (30);
`soon` is due by the end of the clinic's next opening day (one working day, from clinic.yml's opening hours),
or CLINIC_TARGET_SOON_MINUTES when set. An escalation still `open` past its target is re-notified once through
the configured notifiers (bot/notify.py); the claim is a row in `escalation_alerts`, so several console
processes never notify twice. The console's alert stream (server-sent events) tells an open console about
new emergency and same-day escalations at once; bot/staff/static/alerts.js raises the desktop notification
and the sound.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Column, DateTime, Integer, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from bot.clinic_profile import clinic_profile
from bot.db import Base
from bot.escalations import Escalation, escalation_payload, utcnow
from bot.settings import settings
from bot.triage.flags import URGENT_LEVELS

logger = logging.getLogger(__name__)

ESCALATIONS = Escalation.__table__


class EscalationAlert(Base):
    """One re-notification per overdue escalation (the primary key is the claim)."""

    __tablename__ = "escalation_alerts"

    escalation_id = Column(Integer, primary_key=True)
    renotified_at = Column(DateTime, nullable=False, default=utcnow)


ALERTS = EscalationAlert.__table__


def _minutes_setting(level: str) -> int | None:
    """CLINIC_TARGET_<LEVEL>_MINUTES from the settings catalogue (bot/settings.py validates it)."""
    return getattr(settings(), f"target_{level}_minutes", None)


def due_at(level: str, created_at: datetime) -> datetime:
    """When an escalation of `level` raised at `created_at` (naive UTC) should have had a response."""
    minutes = _minutes_setting(level)
    if minutes is not None:
        return created_at + timedelta(minutes=minutes)
    hours = clinic_profile().opening_hours
    if hours is None:
        return created_at + timedelta(days=1)
    # one working day: the end of the next day the clinic opens after this one
    moment = created_at.replace(tzinfo=timezone.utc)
    local = hours.local(moment)
    for offset in range(1, 60):
        day = local.date() + timedelta(days=offset)
        ranges = hours.ranges_on(day)
        if ranges:
            closing = datetime.combine(day, ranges[-1][1], tzinfo=hours.zone)
            return closing.astimezone(timezone.utc).replace(tzinfo=None)
    return created_at + timedelta(days=1)


def with_target(row: dict[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """The escalation row plus its due time and whether it is overdue (open only)."""
    due = due_at(row["level"], row["created_at"])
    return {**row, "due_at": due, "overdue": row.get("status") == "open" and (now or utcnow()) > due}


def urgent_since(conn: Connection, after_id: int) -> list[dict[str, Any]]:
    """New emergency and same-day escalations with id > after_id, oldest first (for the alert stream)."""
    rows = conn.execute(select(ESCALATIONS.c.id, ESCALATIONS.c.level, ESCALATIONS.c.flags,
                               ESCALATIONS.c.created_at, ESCALATIONS.c.conversation_id, ESCALATIONS.c.status)
                        .where(ESCALATIONS.c.id > after_id, ESCALATIONS.c.level.in_(URGENT_LEVELS))
                        .order_by(ESCALATIONS.c.id).limit(50)).mappings()
    return [with_target(dict(row)) for row in rows]


def latest_id(conn: Connection) -> int:
    from sqlalchemy import func

    return conn.execute(select(func.max(ESCALATIONS.c.id))).scalar() or 0


def overdue_unclaimed(conn: Connection, now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or utcnow()
    claimed = select(ALERTS.c.escalation_id)
    rows = conn.execute(select(ESCALATIONS).where(ESCALATIONS.c.status == "open",
                                                  ESCALATIONS.c.id.not_in(claimed),
                                                  ESCALATIONS.c.created_at > now - timedelta(days=14))
                        .order_by(ESCALATIONS.c.id)).mappings()
    return [row for row in (with_target(dict(r), now) for r in rows) if row["overdue"]]


def renotify_overdue(engine: Engine, now: datetime | None = None, notify=None) -> list[int]:  # noqa: ANN001
    """Re-notify every open escalation past its target, once each; returns the escalation ids notified."""
    from bot.notify import notify_staff

    notify = notify or notify_staff
    Base.metadata.create_all(engine, tables=[ALERTS])
    with engine.connect() as conn:
        candidates = overdue_unclaimed(conn, now)
    done = []
    for row in candidates:
        try:
            with engine.begin() as conn:
                conn.execute(ALERTS.insert().values(escalation_id=row["id"], renotified_at=utcnow()))
        except IntegrityError:
            continue  # another console process claimed it
        escalation = Escalation(**{k: row[k] for k in ("id", "conversation_id", "channel", "level", "flags",
                                                         "status", "created_at")})
        payload = escalation_payload(escalation, event="overdue")
        payload["due_at"] = row["due_at"].isoformat() + "Z"
        logger.warning("escalation %s (%s) still open past its target: staff re-notified", row["id"], row["level"])
        notify(payload)
        done.append(row["id"])
    return done


def start_renotifier(engine_factory, interval_s: float = 60.0) -> threading.Thread:  # noqa: ANN001
    """A daemon thread in the console process that re-notifies overdue escalations every `interval_s`."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval_s):
            try:
                renotify_overdue(engine_factory())
            except Exception:  # noqa: BLE001 - keep the loop alive; the next round retries
                logger.exception("re-notification round failed")

    thread = threading.Thread(target=loop, name="escalation-renotifier", daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread
