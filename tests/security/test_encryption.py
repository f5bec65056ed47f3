"""Contact details encrypted at rest: the raw escalation columns (and the database file) never hold the name,
phone or email; the console, the export and erasure still work; keys are generated safely and can rotate."""
# ruff: noqa: F811 - the staff console's fixtures are imported from tests/staff/conftest.py and used as arguments
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from bot import encryption, escalations
from bot.staff.db import staff_engine
from tests.staff.conftest import app, as_admin, as_staff, cheap_password_hashing, staff_db  # noqa: F401

pytestmark = pytest.mark.security

NAME, PHONE, EMAIL = "Priya Marathon", "+447700900461", "priya.runner@example.org"


@pytest.fixture(autouse=True)
def data_key_file(tmp_path, monkeypatch) -> Path:
    monkeypatch.delenv("CLINIC_DATA_KEY", raising=False)
    path = tmp_path / "keys" / "data_key"
    monkeypatch.setenv("CLINIC_DATA_KEY_FILE", str(path))
    encryption.forget_keys()
    yield path
    encryption.forget_keys()


def escalate_with_contact(details: str, conversation: str = "web:3f2a9c1e-runner") -> int:
    """What the action server does: the record first, then the consented contact details."""
    record = escalations.create_escalation(conversation, "emergency", ["pop_or_snap"], "a loud pop", "socketio")
    escalations.add_contact(record.id, NAME, details, True)
    return record.id


def raw_rows(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT contact_name, contact_details FROM escalations"))]


def database_bytes(url: str) -> bytes:
    """The SQLite database file and its write-ahead log, as stored on disk."""
    path = Path(url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def test_the_raw_columns_and_the_file_hold_no_contact_details(staff_db):
    engine = staff_engine(staff_db)
    escalate_with_contact(PHONE)
    escalate_with_contact(EMAIL, "telegram:5551234")
    for name, details in raw_rows(engine):
        assert name.startswith(encryption.TOKEN_PREFIX) and details.startswith(encryption.TOKEN_PREFIX)
    raw = repr(raw_rows(engine))
    for secret in (NAME, PHONE, EMAIL, "Priya", "7700900461", "example.org"):
        assert secret not in raw
        assert secret.encode() not in database_bytes(staff_db)
    # Two records with the same name get different tokens (Fernet's random IV): no equality leak.
    assert raw_rows(engine)[0][0] != raw_rows(engine)[1][0]
    # Through the model, the values come back as they were stored.
    assert escalations.get_escalation(1).contact_details == PHONE


def test_the_console_and_the_export_show_them_decrypted(as_staff, as_admin, staff_db):
    escalate_with_contact(PHONE)
    queue = as_staff.get("/staff/escalations").get_data(as_text=True)
    assert NAME in queue and PHONE in queue
    api = as_staff.get("/staff/api/escalations").get_json()["escalations"][0]
    assert (api["contact_name"], api["contact_details"]) == (NAME, PHONE)
    page = as_staff.get("/staff/escalations/1").get_data(as_text=True)
    assert NAME in page and PHONE in page
    transcript = as_staff.get("/staff/transcript/web:3f2a9c1e-runner").get_data(as_text=True)
    assert PHONE in transcript
    exported = json.loads(as_admin.get("/staff/export/json/web:3f2a9c1e-runner").get_data(as_text=True))
    assert exported["escalations"][0]["contact_name"] == NAME
    assert exported["escalations"][0]["contact_details"] == PHONE
    # A status change through the console keeps the details sealed and readable.
    assert as_staff.post("/staff/escalations/1", {"status": "contacted"}).status_code == 302
    assert raw_rows(staff_engine(staff_db))[0][1].startswith(encryption.TOKEN_PREFIX)
    assert escalations.get_escalation(1).contact_details == PHONE


def test_erasure_removes_the_sealed_details_too(as_admin, staff_db):
    escalate_with_contact(PHONE)
    sender = "web:3f2a9c1e-runner"
    assert as_admin.post("/staff/erase", {"sender_id": sender, "confirm": sender}).status_code == 302
    assert raw_rows(staff_engine(staff_db)) == []


def test_rows_stored_before_encryption_are_still_shown(as_staff, staff_db):
    with staff_engine(staff_db).begin() as conn:
        conn.execute(text("INSERT INTO escalations (conversation_id, level, flags, message, contact_name, "
                          "contact_details, consent, status, notified, created_at, updated_at) VALUES ('old', "
                          "'soon', 'night_pain', 'm', 'Old Plain', '07700 900999', 1, 'open', 0, "
                          "'2026-01-01 10:00:00', '2026-01-01 10:00:00')"))
    page = as_staff.get("/staff/escalations").get_data(as_text=True)
    assert "Old Plain" in page and "07700 900999" in page


def test_the_key_file_is_generated_once_with_mode_0600(data_key_file):
    assert not data_key_file.exists()
    token = encryption.encrypt(PHONE)
    assert data_key_file.stat().st_mode & 0o777 == 0o600
    key = data_key_file.read_text()
    encryption.forget_keys()
    assert encryption.decrypt(token) == PHONE and data_key_file.read_text() == key  # reused, not replaced


def test_a_key_from_the_setting_wins_and_a_passphrase_works(data_key_file, monkeypatch):
    monkeypatch.setenv("CLINIC_DATA_KEY", "a long passphrase the clinic keeps in its secrets store")
    encryption.forget_keys()
    token = encryption.encrypt(EMAIL)
    assert not data_key_file.exists() and encryption.decrypt(token) == EMAIL


def test_the_wrong_key_gives_a_clear_placeholder_not_a_crash(as_staff, monkeypatch):
    escalate_with_contact(PHONE)
    monkeypatch.setenv("CLINIC_DATA_KEY", "some other clinic's key")
    encryption.forget_keys()
    response = as_staff.get("/staff/escalations")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert PHONE not in page and "encrypted with another key" in page


def test_keys_rotate_old_rows_stay_readable_and_reencrypt_moves_them(staff_db, monkeypatch, capsys):
    from cryptography.fernet import Fernet

    from bot.cli import main

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("CLINIC_DATA_KEY", old)
    encryption.forget_keys()
    escalate_with_contact(PHONE)
    monkeypatch.setenv("CLINIC_DATA_KEY", f"{new},{old}")  # the new key first; the old one still reads
    encryption.forget_keys()
    assert escalations.get_escalation(1).contact_details == PHONE
    assert main(["staff", "reencrypt"]) == 0
    assert "contact details of 1 escalations sealed" in capsys.readouterr().out
    monkeypatch.setenv("CLINIC_DATA_KEY", new)  # the old key retired
    encryption.forget_keys()
    assert escalations.get_escalation(1).contact_details == PHONE
    assert escalations.get_escalation(1).contact_name == NAME
