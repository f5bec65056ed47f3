"""The analytics area: conversations per day and channel, top topics, escalation levels, fallback rate."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from bot import feedback
from bot.staff.analytics import analytics_for
from bot.staff.web import engine, refresh

bp = Blueprint("analytics", __name__)
NAV = ("Analytics", "staff.analytics.analytics", False)


@bp.get("/analytics")
def analytics() -> Any:
    refresh()
    days = request.args.get("days", "30")
    days_n = min(max(int(days), 1), 366) if days.isdigit() else 30
    numbers, svgs, age = analytics_for(engine(), days_n)
    with engine().connect() as conn:
        helpfulness = {"topics": feedback.helpfulness_by_topic(conn, days_n),
                       "weeks": feedback.helpfulness_by_week(conn)}
    return render_template("staff/analytics.html", numbers=numbers, charts=svgs, age=age, helpfulness=helpfulness)
