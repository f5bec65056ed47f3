"""Fixtures for the staff console: an app on a fresh database, accounts, logged-in clients, events."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bot.staff.auth import create_user
from bot.staff.db import forget_prepared, staff_engine

PASSWORDS = {"sam": "sam-password-1", "ada": "ada-password-1"}
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with its production cost takes ~0.3 s a hash; tests use a cheap setting of the same scheme."""
    from argon2 import PasswordHasher

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr("bot.staff.auth._hasher", cheap)


@pytest.fixture
def staff_db(clinic_db: str) -> Iterator[str]:
    """A fresh clinic database (SQLite) with the console's tables, the events table and two accounts."""
    forget_prepared()
    engine = staff_engine(clinic_db)
    with Session(bind=engine, future=True) as session:
        create_user(session, "sam", PASSWORDS["sam"], "staff")
        create_user(session, "ada", PASSWORDS["ada"], "admin")
        session.commit()
    yield clinic_db
    forget_prepared()


@pytest.fixture
def app(staff_db: str, monkeypatch: pytest.MonkeyPatch) -> Flask:
    from bot.web.app import create_app

    monkeypatch.setenv("CLINIC_STAFF_LOCKOUT_MINUTES", "15")
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret-key"})


@dataclass
class StaffClient:
    """A test client that knows its CSRF token."""

    client: FlaskClient
    token: str = ""

    def get(self, *args, **kwargs):
        response = self.client.get(*args, **kwargs)
        html = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        match = CSRF_META.search(html)
        if match:
            self.token = match.group(1)
        return response

    def post(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token)
        return self.client.post(url, data=data, **kwargs)

    def post_json(self, url: str, payload: dict, **kwargs):
        return self.client.post(url, json=payload, headers={"X-CSRFToken": self.token}, **kwargs)


def login(client: FlaskClient, username: str, password: str | None = None) -> StaffClient:
    staff = StaffClient(client)
    staff.get("/staff/login")
    response = staff.post("/staff/login", {"username": username, "password": password or PASSWORDS[username]})
    assert response.status_code == 302, response.get_data(as_text=True)
    staff.get("/staff/conversations")  # a fresh CSRF token for the new session
    return staff


@pytest.fixture
def as_staff(app: Flask) -> StaffClient:
    return login(app.test_client(), "sam")


@pytest.fixture
def as_admin(app: Flask) -> StaffClient:
    return login(app.test_client(), "ada")
