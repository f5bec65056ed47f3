"""Patients' rights: export one person's data, erase it everywhere, retention, and the audit trail."""
from __future__ import annotations

import csv
import io
import json
import time

from sqlalchemy import String, Text, inspect, select, text
from sqlalchemy.orm import Session

from bot.escalations import Escalation
from bot.staff.db import staff_engine
from bot.staff.models import AuditEntry
from tests.staff import events as ev
from tests.staff.test_console import seed

DAY = 86400.0


def rows_naming(engine, needle: str) -> dict[str, int]:
    """For every table in the database, how many rows mention `needle` in any text column."""
    found: dict[str, int] = {}
    inspector = inspect(engine)
    with engine.connect() as conn:
        for table in inspector.get_table_names():
            columns = [c["name"] for c in inspector.get_columns(table)
                       if isinstance(c["type"], (String, Text)) or "CHAR" in str(c["type"]).upper()
                       or "TEXT" in str(c["type"]).upper()]
            if not columns:
                continue
            condition = " OR ".join(f'"{c}" LIKE :needle' for c in columns)
            count = conn.execute(text(f'SELECT COUNT(*) FROM "{table}" WHERE {condition}'),
                                 {"needle": f"%{needle}%"}).scalar()
            if count:
                found[table] = count
    return found


def test_export_one_persons_conversation_as_json_and_csv(as_admin, staff_db):
    seed(staff_engine(staff_db))
    response = as_admin.get("/staff/export/json/bob")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["conversation_id"] == "bob"
    assert [e["type"] for e in data["events"]] == ["user", "action", "bot", "action"]
    assert data["events"][0]["event"]["text"] == "I heard a pop in my achilles and can't walk"
    assert data["escalations"][0]["contact_details"] == "07700 900123"
    response = as_admin.get("/staff/export/csv/bob")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0]["type"] == "user" and rows[0]["red_flags"] == "pop_or_snap;cannot_walk"
    assert rows[2]["text"] == "This could be a rupture. Please go to A&E now."
    with Session(bind=staff_engine(staff_db)) as session:
        actions = {(e.action, e.target) for e in session.execute(select(AuditEntry)).scalars()}
    assert ("export_json", "bob") in actions and ("export_csv", "bob") in actions


def test_csv_export_neutralises_spreadsheet_formulas(as_admin, staff_db):
    engine = staff_engine(staff_db)
    ev.insert(engine, "mallory", ev.fallback_conversation('=HYPERLINK("http://evil.example","x")'))
    rows = list(csv.reader(io.StringIO(as_admin.get("/staff/export/csv/mallory").get_data(as_text=True))))
    assert rows[1][2].startswith("'=HYPERLINK")


def test_erasure_needs_confirmation(as_admin, staff_db):
    engine = staff_engine(staff_db)
    seed(engine)
    page = as_admin.get("/staff/erase/bob").get_data(as_text=True)
    assert "Type the conversation id to confirm" in page and "events: 4" in page
    response = as_admin.post("/staff/erase", {"sender_id": "bob", "confirm": "bo"})
    assert response.status_code == 302 and "/staff/erase/bob" in response.headers["Location"]
    assert rows_naming(engine, "pop in my achilles")["events"] == 1


def test_erasure_leaves_nothing_behind(as_staff, as_admin, staff_db):
    engine = staff_engine(staff_db)
    seed(engine)
    sender = "bob"
    # Touch every table that can hold bob's data: summaries, topics, search, reviews, tags, labels, audit.
    ev.insert(engine, sender, ev.low_confidence_conversation("bob's private words about shoes"))
    as_staff.get("/staff/conversations")
    as_staff.get(f"/staff/transcript/{sender}")
    as_staff.post("/staff/review", {"sender_id": sender, "reviewed": "1", "note": "checked"})
    as_staff.post("/staff/tag", {"sender_id": sender, "tag": "rupture"})
    from tests.staff.test_console import _user_items

    event_id = _user_items(engine, sender)[-1]["id"]
    as_staff.post("/staff/label", {"event_id": event_id, "correct_intent": "ask_footwear"})
    as_admin.get(f"/staff/export/json/{sender}")
    before = rows_naming(engine, sender)
    for table in ("events", "escalations", "conversation_summaries", "conversation_search", "staff_reviews",
                  "staff_tags", "staff_message_labels", "staff_low_confidence_messages", "staff_audit_log"):
        assert table in before, (table, before)

    response = as_admin.post("/staff/erase", {"sender_id": sender, "confirm": sender})
    assert response.status_code == 302

    assert rows_naming(engine, sender) == {}
    assert rows_naming(engine, "07700 900123") == {}
    assert rows_naming(engine, "private words") == {}
    with engine.connect() as conn:
        query = text("SELECT COUNT(*) FROM conversation_topics WHERE sender_id = 'bob'")
        assert conn.execute(query).scalar() == 0
    # Other people's data is untouched, and the erasure itself is audited under a pseudonym.
    assert rows_naming(engine, "alice")["events"] == 5
    with Session(bind=engine) as session:
        erase = session.execute(select(AuditEntry).where(AuditEntry.action == "erase")).scalar_one()
        assert erase.actor == "ada" and erase.target.startswith("erased:")
        query = select(AuditEntry).where(AuditEntry.action == "view_conversation")
        earlier = session.execute(query).scalar_one()
        assert earlier.target == erase.target  # the history stays linkable, not identifying
    assert as_staff.get(f"/staff/transcript/{sender}").status_code == 404
    listed = as_staff.get("/staff/api/conversations").get_json()["conversations"]
    assert sender not in [c["sender_id"] for c in listed]


def test_retention_command_deletes_conversations_older_than_n_days(staff_db, monkeypatch, capsys):
    from bot.cli import main

    engine = staff_engine(staff_db)
    now = time.time()
    ev.insert(engine, "old-timer", ev.heel_lift_conversation(), start=now - 400 * DAY)
    ev.insert(engine, "old-but-back", ev.heel_lift_conversation(), start=now - 400 * DAY)
    ev.insert(engine, "old-but-back", ev.low_confidence_conversation(), start=now - DAY)
    ev.insert(engine, "recent", ev.heel_lift_conversation(), start=now - 10 * DAY)
    ev.insert(engine, "old-escalated", ev.red_flag_conversation(), start=now - 400 * DAY)
    with Session(bind=engine) as session:
        session.add(Escalation(conversation_id="old-escalated", level="emergency", flags="pop", message="pop",
                               created_at=__import__("datetime").datetime.utcnow().replace(year=2020)))
        session.commit()
    monkeypatch.setenv("CLINIC_RETENTION_DAYS", "365")
    monkeypatch.setenv("CLINIC_SECRET_KEY", "k")
    assert main(["staff", "retention", "--dry-run"]) == 0
    assert "would delete 2 conversations" in capsys.readouterr().out
    assert rows_naming(engine, "old-timer")
    assert main(["staff", "retention"]) == 0
    assert "deleted 2 conversations (9 events)" in capsys.readouterr().out
    assert rows_naming(engine, "old-timer") == {} and rows_naming(engine, "old-escalated") == {}
    assert rows_naming(engine, "old-but-back")["events"] == 9
    assert rows_naming(engine, "recent")["events"] == 5
    # --days overrides the setting
    assert main(["staff", "retention", "--days", "5"]) == 0
    assert rows_naming(engine, "recent") == {} and rows_naming(engine, "old-but-back")
    with Session(bind=engine) as session:
        runs = session.execute(select(AuditEntry).where(AuditEntry.action == "retention")).scalars().all()
    assert len(runs) == 2 and all(r.actor == "retention" for r in runs)


def test_retention_setting_is_validated(monkeypatch):
    from bot.staff.retention import retention_days

    monkeypatch.setenv("CLINIC_RETENTION_DAYS", "ninety")
    try:
        retention_days()
    except ValueError as error:
        assert "whole number" in str(error)
    else:
        raise AssertionError("a bad CLINIC_RETENTION_DAYS was accepted")
    monkeypatch.delenv("CLINIC_RETENTION_DAYS")
    assert retention_days() == 365


def test_audit_log_is_for_admins_and_shows_who_did_what(as_staff, as_admin, staff_db):
    seed(staff_engine(staff_db))
    as_staff.get("/staff/transcript/alice")
    as_admin.get("/staff/export/csv/alice")
    assert as_staff.get("/staff/audit").status_code == 403
    page = as_admin.get("/staff/audit").get_data(as_text=True)
    assert "view_conversation" in page and "export_csv" in page and "sam" in page and "ada" in page
    filtered = as_admin.get("/staff/audit?action=export_csv").get_data(as_text=True)
    assert "<td>view_conversation</td>" not in filtered and "<td>export_csv</td>" in filtered


def test_every_personal_table_is_covered_by_erasure():
    """A new table with a sender/conversation id column must be added to retention.PERSONAL_TABLES."""
    from bot.db import Base
    from bot.staff.retention import PERSONAL_TABLES

    covered = {table.name for table, _ in PERSONAL_TABLES}
    for table in Base.metadata.sorted_tables:
        if any(c.name in ("sender_id", "conversation_id") for c in table.columns):
            assert table.name in covered, f"{table.name} holds conversation ids but erasure ignores it"
