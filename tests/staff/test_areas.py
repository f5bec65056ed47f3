"""The console by area: every area in bot/staff/blueprints.py is mounted under /staff with its menu entry, and
requests are validated (WTForms) with a clear 400 before anything changes."""
from __future__ import annotations

import importlib

from bot.escalations import Escalation
from bot.staff.blueprints import AREAS
from bot.staff.db import staff_engine


def test_every_area_is_a_blueprint_under_the_staff_parent(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    for name in AREAS:
        module = importlib.import_module(name)
        area = module.bp.name
        assert any(e.startswith(f"staff.{area}.") for e in endpoints), (name, area)
        if getattr(module, "NAV", None):
            assert module.NAV[1] in endpoints, module.NAV
    assert {"staff.auth", "staff.conversations", "staff.escalations", "staff.analytics", "staff.labels",
            "staff.privacy", "staff.accounts"} <= set(app.blueprints)


def test_the_menu_comes_from_the_areas_and_hides_admin_pages_from_staff(as_staff, as_admin):
    staff_page = as_staff.get("/staff/conversations").get_data(as_text=True)
    admin_page = as_admin.get("/staff/conversations").get_data(as_text=True)
    for label in ("Conversations", "Escalations", "Analytics", "Misunderstood"):
        assert f">{label}</a>" in staff_page and f">{label}</a>" in admin_page
    for label in ("Audit log", "Accounts"):
        assert f">{label}</a>" not in staff_page and f">{label}</a>" in admin_page
    assert 'id="nav-escalations"' in staff_page


def add_escalation(staff_db: str) -> None:
    from sqlalchemy.orm import Session

    with Session(bind=staff_engine(staff_db)) as session:
        session.add(Escalation(conversation_id="zoe", level="same_day", flags="night_pain", message="m"))
        session.commit()


def test_escalation_updates_are_validated_before_anything_changes(as_staff, staff_db):
    add_escalation(staff_db)
    wrong_type = as_staff.post_json("/staff/api/escalations/1", {"status": 3, "notes": ["x"]})
    assert wrong_type.status_code == 400 and "notes, status must be text" in wrong_type.get_json()["error"]
    not_an_object = as_staff.post_json("/staff/api/escalations/1", ["closed"])
    assert not_an_object.status_code == 400 and "JSON object" in not_an_object.get_json()["error"]
    too_long = as_staff.post_json("/staff/api/escalations/1", {"assignee": "x" * 256})
    assert too_long.status_code == 400 and "assignee" in too_long.get_json()["error"]
    assert as_staff.post("/staff/escalations/1", {"notes": "n" * 10_001}).status_code == 400
    row = as_staff.get("/staff/api/escalations?status=all").get_json()["escalations"][0]
    assert row["status"] == "open" and row["assignee"] is None and row["notes"] is None
    # Only the fields sent change.
    assert as_staff.post_json("/staff/api/escalations/1", {"assignee": "sam"}).status_code == 200
    assert as_staff.post_json("/staff/api/escalations/1", {"notes": "called"}).get_json()["escalation"][
        "assignee"] == "sam"


def test_bad_form_values_get_a_400_not_a_crash(as_staff, as_admin):
    assert as_staff.post("/staff/review", {"sender_id": "zoe", "reviewed": "maybe"}).status_code == 400
    assert as_staff.post("/staff/review", {"sender_id": ""}).status_code == 400
    assert as_staff.post("/staff/tag", {"sender_id": "zoe", "tag": "x", "op": "explode"}).status_code == 400
    assert as_staff.post("/staff/label", {"event_id": "abc", "correct_intent": "ask_footwear"}).status_code == 400
    assert as_staff.post("/staff/label/delete", {"label_id": "abc"}).status_code == 404
    response = as_admin.post("/staff/users", {"username": "nina", "password": "nina-password-1", "role": "boss"})
    assert response.status_code == 302
    assert "Not created: role" in as_admin.get("/staff/users").get_data(as_text=True)
    response = as_admin.post("/staff/users/1", {"action": "explode"})
    assert response.status_code == 302 and "unknown action" in as_admin.get("/staff/users").get_data(as_text=True)


def test_an_admin_sets_the_name_visitors_see_and_the_handoff_uses_it(as_admin, staff_db):
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from bot.staff.handoff import visitor_name
    from bot.staff.models import StaffUser

    created = as_admin.post("/staff/users", {"username": "r.okafor", "password": "okafor-password-1",
                                             "role": "staff", "display_name": "  Dr   Okafor "})
    assert created.status_code == 302

    def account() -> StaffUser:
        with Session(bind=staff_engine(staff_db), expire_on_commit=False) as session:
            return session.execute(select(StaffUser).where(StaffUser.username == "r.okafor")).scalar_one()

    assert account().display_name == "Dr Okafor" and visitor_name(account()) == "Dr Okafor"
    assert "Dr Okafor" in as_admin.get("/staff/users").get_data(as_text=True)
    user_id = account().id
    refused = as_admin.post(f"/staff/users/{user_id}", {"action": "display_name", "display_name": "<b>Ro</b>"})
    assert refused.status_code == 302 and "Not changed" in as_admin.get("/staff/users").get_data(as_text=True)
    assert account().display_name == "Dr Okafor"
    as_admin.post(f"/staff/users/{user_id}", {"action": "display_name", "display_name": ""})
    assert account().display_name is None and visitor_name(account()) == "R", "cleared: derived from the name"
    assert visitor_name(StaffUser(username="anna.lee")) == "Anna"
    assert visitor_name(StaffUser(username="tom_b@clinic.example")) == "Tom"
