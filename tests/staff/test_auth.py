"""Login, lockout, CSRF, cookies and roles: no route of the console answers without the right account."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.staff.db import staff_engine
from bot.staff.models import AuditEntry, StaffUser
from tests.staff.conftest import PASSWORDS, StaffClient, login

# Endpoint names are "staff.<area blueprint>.<view>" (bot/staff/blueprints.py).
PUBLIC = {"staff.auth.login", "staff.static"}
ADMIN_ONLY = {"staff.privacy.export_person", "staff.privacy.erase_confirm", "staff.privacy.erase",
              "staff.privacy.audit_log", "staff.accounts.users", "staff.accounts.users_create",
              "staff.accounts.users_update", "staff.labels.labels_export", "staff.labels.feedback_export"}
ARGUMENTS = {"sender_id": "someone", "fmt": "json", "escalation_id": 1, "user_id": 1, "filename": "staff.css",
             "operation": "reply"}


def staff_routes(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every console route in the app's URL map, whatever is added later."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff"):
            continue
        url = rule.rule
        for name in rule.arguments:
            url = url.replace(f"<{name}>", str(ARGUMENTS[name]))
            for converter in ("path", "int", "string"):
                url = url.replace(f"<{converter}:{name}>", str(ARGUMENTS[name]))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, url))
    return routes


def test_every_staff_endpoint_is_covered_by_these_tests(app):
    endpoints = {endpoint for endpoint, _, _ in staff_routes(app)}
    assert len(endpoints) >= 25, endpoints
    assert ADMIN_ONLY <= endpoints
    # every route is either public (login, stylesheet) or guarded: see the test below


def test_every_route_refuses_an_anonymous_request(app):
    client = app.test_client()
    checked = 0
    for endpoint, method, url in staff_routes(app):
        if endpoint in PUBLIC:
            continue
        response = client.open(url, method=method, json={} if "/api/" in url and method == "POST" else None)
        if url.startswith("/staff/api/"):
            assert response.status_code == 401, (method, url, response.status_code)
            assert response.get_json() == {"error": "login required"}
        else:
            assert response.status_code == 302, (method, url, response.status_code)
            assert "/staff/login" in response.headers["Location"], (method, url)
        checked += 1
    assert checked >= 20


def test_public_routes_are_only_the_login_form_and_stylesheet(app):
    client = app.test_client()
    assert client.get("/staff/login").status_code == 200
    assert client.get("/staff/static/staff.css").status_code == 200
    assert client.get("/staff/").status_code == 302


def test_login_and_logout(app):
    staff = login(app.test_client(), "sam")
    page = staff.get("/staff/conversations")
    assert page.status_code == 200 and "sam (staff)" in page.get_data(as_text=True)
    assert staff.post("/staff/logout").status_code == 302
    assert staff.get("/staff/conversations").status_code == 302


def test_wrong_password_is_refused_and_audited(app, staff_db):
    staff = StaffClient(app.test_client())
    staff.get("/staff/login")
    response = staff.post("/staff/login", {"username": "sam", "password": "not-the-password"})
    assert response.status_code == 401
    assert "Wrong user name or password" in response.get_data(as_text=True)
    assert staff.get("/staff/conversations").status_code == 302
    unknown = staff.post("/staff/login", {"username": "nobody", "password": "whatever-it-is"})
    assert unknown.status_code == 401
    with Session(bind=staff_engine(staff_db)) as session:
        actions = [e.action for e in session.execute(select(AuditEntry)).scalars()]
    assert actions.count("login_failed_invalid") == 2


def test_five_failed_logins_lock_the_account_for_fifteen_minutes(app, staff_db):
    staff = StaffClient(app.test_client())
    staff.get("/staff/login")
    for attempt in range(5):
        response = staff.post("/staff/login", {"username": "sam", "password": f"wrong-{attempt}"})
        assert response.status_code == 401
    assert "locked" in response.get_data(as_text=True)
    # The right password does not help while the lock lasts.
    response = staff.post("/staff/login", {"username": "sam", "password": PASSWORDS["sam"]})
    assert response.status_code == 401 and "locked" in response.get_data(as_text=True)
    with Session(bind=staff_engine(staff_db)) as session:
        user = session.execute(select(StaffUser).where(StaffUser.username == "sam")).scalar_one()
        minutes = (user.locked_until - __import__("datetime").datetime.utcnow()).total_seconds() / 60
        assert 14 < minutes <= 15
        # When the lock has expired, the right password works again.
        user.locked_until = user.locked_until.replace(year=2000)
        session.commit()
    assert login(app.test_client(), "sam").get("/staff/conversations").status_code == 200


def test_an_admin_can_unlock_an_account(app, as_admin, staff_db):
    staff = StaffClient(app.test_client())
    staff.get("/staff/login")
    for _ in range(5):
        staff.post("/staff/login", {"username": "sam", "password": "wrong-password"})
    with Session(bind=staff_engine(staff_db)) as session:
        sam = session.execute(select(StaffUser).where(StaffUser.username == "sam")).scalar_one()
    assert as_admin.post(f"/staff/users/{sam.id}", {"action": "unlock"}).status_code == 302
    assert login(app.test_client(), "sam").get("/staff/conversations").status_code == 200


def test_lockout_threshold_is_configurable(app, monkeypatch):
    monkeypatch.setenv("CLINIC_STAFF_MAX_FAILED_LOGINS", "2")
    staff = StaffClient(app.test_client())
    staff.get("/staff/login")
    staff.post("/staff/login", {"username": "ada", "password": "wrong-password"})
    response = staff.post("/staff/login", {"username": "ada", "password": "wrong-password"})
    assert "locked" in response.get_data(as_text=True)


def test_login_form_without_csrf_token_is_rejected(app):
    client = app.test_client()
    response = client.post("/staff/login", data={"username": "sam", "password": PASSWORDS["sam"]})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_forms_and_json_posts_without_csrf_token_are_rejected(as_staff):
    # A form post with a missing or wrong token.
    response = as_staff.client.post("/staff/review", data={"sender_id": "x", "reviewed": "1"})
    assert response.status_code == 400
    response = as_staff.client.post("/staff/review", data={"sender_id": "x", "csrf_token": "forged"})
    assert response.status_code == 400
    # A JSON post needs the X-CSRFToken header.
    response = as_staff.client.post("/staff/api/escalations/1", json={"status": "closed"})
    assert response.status_code == 400 and "CSRF" in response.get_json()["error"]
    # With the token it goes through (404: there is no escalation 1).
    assert as_staff.post_json("/staff/api/escalations/1", {"status": "closed"}).status_code == 404


def test_session_cookie_is_httponly_and_samesite(app):
    client = app.test_client()
    staff = StaffClient(client)
    staff.get("/staff/login")
    response = staff.post("/staff/login", {"username": "sam", "password": PASSWORDS["sam"]})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_secure_cookie_flag_comes_from_the_environment(staff_db, monkeypatch):
    from bot.web.app import create_app

    monkeypatch.setenv("CLINIC_SECURE_COOKIES", "1")
    app = create_app({"TESTING": True, "SECRET_KEY": "k"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_security_headers(as_staff):
    response = as_staff.get("/staff/conversations")
    assert response.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_login_does_not_redirect_off_site(app):
    staff = StaffClient(app.test_client())
    staff.get("/staff/login")
    response = staff.client.post("/staff/login?next=https://evil.example/",
                                 data={"username": "sam", "password": PASSWORDS["sam"],
                                       "csrf_token": staff.token})
    assert response.headers["Location"].endswith("/staff/conversations")


def test_staff_role_is_refused_every_admin_route(app, as_staff):
    admin_endpoints = set()
    for endpoint, method, url in staff_routes(app):
        view = app.view_functions[endpoint]
        if not getattr(view, "admin_only", False):
            continue
        admin_endpoints.add(endpoint)
        if method == "POST":
            response = as_staff.post(url, {"sender_id": "someone", "confirm": "someone", "username": "eve",
                                           "password": "eve-password-1", "action": "unlock"})
        else:
            response = as_staff.get(url)
        assert response.status_code == 403, (method, url, response.status_code)
    assert admin_endpoints == ADMIN_ONLY


def test_admin_can_reach_admin_routes(as_admin):
    for url in ("/staff/users", "/staff/audit", "/staff/export/json/nobody", "/staff/export/csv/nobody",
                "/staff/erase/nobody", "/staff/labels/export.yml"):
        assert as_admin.get(url).status_code == 200, url


def test_password_change_ends_other_sessions(app, as_admin, as_staff, staff_db):
    with Session(bind=staff_engine(staff_db)) as session:
        sam = session.execute(select(StaffUser).where(StaffUser.username == "sam")).scalar_one()
    assert as_staff.get("/staff/conversations").status_code == 200
    response = as_admin.post(f"/staff/users/{sam.id}",
                             {"action": "password", "password": "brand-new-password"})
    assert response.status_code == 302
    assert as_staff.get("/staff/conversations").status_code == 302
    again = login(app.test_client(), "sam", "brand-new-password")
    assert again.get("/staff/conversations").status_code == 200


def test_deactivated_account_cannot_log_in(app, as_admin, staff_db):
    with Session(bind=staff_engine(staff_db)) as session:
        sam = session.execute(select(StaffUser).where(StaffUser.username == "sam")).scalar_one()
    as_admin.post(f"/staff/users/{sam.id}", {"action": "deactivate"})
    staff = StaffClient(app.test_client())
    staff.get("/staff/login")
    assert staff.post("/staff/login", {"username": "sam", "password": PASSWORDS["sam"]}).status_code == 401


def test_admin_creates_an_account_from_the_console(app, as_admin):
    response = as_admin.post("/staff/users",
                             {"username": "nina", "password": "nina-password-1", "role": "staff"})
    assert response.status_code == 302
    assert login(app.test_client(), "nina", "nina-password-1").get("/staff/users").status_code == 403
    short = as_admin.post("/staff/users", {"username": "olga", "password": "short", "role": "staff"})
    assert short.status_code == 302
    assert "at least 10 characters" in as_admin.get("/staff/users").get_data(as_text=True)


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_cli_creates_a_user_with_password_from_stdin(staff_db, role, monkeypatch, capsys):
    import io

    from bot.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO("cli-password-123\n"))
    assert main(["staff", "create-user", "carol", "--role", role, "--password-stdin"]) == 0
    assert f"created staff user 'carol' with role {role}" in capsys.readouterr().out
    with Session(bind=staff_engine(staff_db)) as session:
        carol = session.execute(select(StaffUser).where(StaffUser.username == "carol")).scalar_one()
    assert carol.role == role and carol.password_hash.startswith("$argon2id$")
    monkeypatch.setattr("sys.stdin", io.StringIO("cli-password-123\n"))
    assert main(["staff", "create-user", "carol", "--password-stdin"]) == 2  # taken


def test_secret_key_file_is_generated_once_with_mode_0600(tmp_path, monkeypatch):
    from bot.staff.auth import load_secret_key

    monkeypatch.delenv("CLINIC_SECRET_KEY", raising=False)
    monkeypatch.setenv("CLINIC_SECRET_KEY_FILE", str(tmp_path / "secret_key"))
    first = load_secret_key()
    assert len(first) == 64 and load_secret_key() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("CLINIC_SECRET_KEY", "from-env")
    assert load_secret_key() == "from-env"
