"""Escalation alerts: response targets per level, re-notification of overdue escalations (once), the alert
stream of new urgent escalations, and the queue showing each open escalation's target."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from bot.escalations import create_escalation, update_escalation, utcnow
from bot.staff import alerts, alerts_views
from bot.staff.db import staff_engine


def test_targets_per_level_and_one_working_day_for_soon(monkeypatch):
    raised = datetime(2026, 12, 4, 18, 0)  # Friday 18:00 UTC (18:00 in London)
    assert alerts.due_at("emergency", raised) == raised + timedelta(minutes=5)
    assert alerts.due_at("same_day", raised) == raised + timedelta(minutes=30)
    # soon: by the end of the next day the clinic opens, Saturday 13:00
    assert alerts.due_at("soon", raised) == datetime(2026, 12, 5, 13, 0)
    monkeypatch.setenv("CLINIC_TARGET_EMERGENCY_MINUTES", "2")
    assert alerts.due_at("emergency", raised) == raised + timedelta(minutes=2)
    monkeypatch.setenv("CLINIC_TARGET_SAME_DAY_MINUTES", "soon-ish")
    with pytest.raises(ValueError, match="CLINIC_TARGET_SAME_DAY_MINUTES must be a whole number"):
        alerts.due_at("same_day", raised)


def _raise(level: str, minutes_ago: float, conversation: str) -> int:
    escalation = create_escalation(conversation, level, ["pop_or_snap"], "private words", channel="rest")
    engine = staff_engine()
    with engine.begin() as conn:
        conn.execute(alerts.ESCALATIONS.update().where(alerts.ESCALATIONS.c.id == escalation.id)
                     .values(created_at=utcnow() - timedelta(minutes=minutes_ago)))
    return escalation.id


def test_open_escalations_past_their_target_are_renotified_once(staff_db):
    overdue = _raise("emergency", 10, "rest:a")
    _raise("emergency", 1, "rest:b")            # not yet due
    handled = _raise("same_day", 45, "rest:c")  # overdue, but staff already contacted the person
    with staff_engine().begin() as conn:
        update_escalation(conn, handled, {"status": "contacted"})
    sent: list[dict] = []
    assert alerts.renotify_overdue(staff_engine(), notify=sent.append) == [overdue]
    assert [p["event"] for p in sent] == ["overdue"] and sent[0]["level"] == "emergency"
    assert sent[0]["due_at"].endswith("Z")
    assert alerts.renotify_overdue(staff_engine(), notify=sent.append) == []  # never twice
    assert len(sent) == 1


def test_two_console_processes_racing_notify_once(staff_db):
    _raise("same_day", 40, "rest:race")
    sent: list[dict] = []
    lock = threading.Lock()

    def notify(payload: dict) -> None:
        with lock:
            sent.append(payload)

    threads = [threading.Thread(target=alerts.renotify_overdue, args=(staff_engine(),), kwargs={"notify": notify})
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sent) == 1


def test_the_alert_stream_pushes_new_open_urgent_escalations_only(app, as_staff, monkeypatch):
    monkeypatch.setattr(alerts_views, "STREAM_SECONDS", 1.5)
    monkeypatch.setattr(alerts_views, "POLL_SECONDS", 0.2)
    urgent = _raise("emergency", 0, "rest:u")
    _raise("soon", 0, "rest:s")
    response = as_staff.get("/staff/api/alerts/stream?after=0")
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    body = response.get_data(as_text=True)
    assert f"id: {urgent}\nevent: escalation\n" in body
    assert body.count("event: escalation") == 1
    assert "private words" not in body  # the patient's words stay on the escalation page


def test_a_new_console_page_starts_from_now_and_a_reconnect_resumes_after_its_last_id(app, as_staff, monkeypatch):
    monkeypatch.setattr(alerts_views, "STREAM_SECONDS", 0.5)
    first = _raise("emergency", 0, "rest:old")
    fresh = as_staff.get("/staff/api/alerts/stream").get_data(as_text=True)
    assert "event: escalation" not in fresh  # an escalation from before the page opened is not re-alerted
    second = _raise("same_day", 0, "rest:new")
    resumed = as_staff.get("/staff/api/alerts/stream", headers={"Last-Event-ID": str(first)}).get_data(as_text=True)
    assert f"id: {second}\n" in resumed and f"id: {first}\n" not in resumed


def test_the_queue_shows_each_open_escalations_response_target(app, as_staff):
    escalation = _raise("emergency", 10, "rest:q")
    data = as_staff.get("/staff/api/escalations").get_json()
    row = next(r for r in data["escalations"] if r["id"] == escalation)
    assert row["overdue"] is True and row["due_at"].endswith("Z")
    page = as_staff.get("/staff/escalations").get_data(as_text=True)
    assert 'class="timer" data-due=' in page and "Response target" in page
