"""Fixtures for the staff console: an app on a fresh database, accounts, logged-in clients, events."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bot.devtools.staff import StaffClient
from bot.devtools.staff import login as devtools_login
from bot.staff.auth import create_user
from bot.staff.db import forget_prepared, staff_engine

PASSWORDS = {"sam": "sam-password-1", "ada": "ada-password-1"}


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


def login(client: FlaskClient, username: str, password: str | None = None) -> StaffClient:
    """Log in as one of the fixture accounts (bot/devtools/staff.py does the form and CSRF work)."""
    return devtools_login(client, username, password or PASSWORDS[username])


@pytest.fixture
def as_staff(app: Flask) -> StaffClient:
    return login(app.test_client(), "sam")


@pytest.fixture
def as_admin(app: Flask) -> StaffClient:
    return login(app.test_client(), "ada")
