"""Staff login against abuse: one answer for unknown, wrong and locked; lockout cannot keep staff out; each
address is throttled (429), also across web workers sharing Redis, and on the real web server."""
# ruff: noqa: F811 - the staff console's fixtures are imported from tests/staff/conftest.py and used as arguments
from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.launcher import LOOPBACK, free_port
from bot.paths import PROJECT_ROOT
from bot.staff.auth import create_user
from bot.staff.db import staff_engine
from bot.staff.models import AuditEntry, StaffUser
from tests.servers import redis_url  # noqa: F401 - a pytest fixture
from tests.staff.conftest import PASSWORDS, StaffClient, app, cheap_password_hashing, staff_db  # noqa: F401

pytestmark = pytest.mark.security

TOKEN = re.compile(r'(name="csrf_token" value="|<meta name="csrf-token" content=")[^"]+"')


def visitor(app: Flask, address: str) -> StaffClient:
    """A browser at `address` with the login form open (its own session and CSRF token)."""
    staff = StaffClient(app.test_client())
    staff.client.environ_base["REMOTE_ADDR"] = address
    staff.get("/staff/login")
    return staff


def attempt(staff: StaffClient, username: str, password: str):
    return staff.post("/staff/login", {"username": username, "password": password})


def answer(response) -> tuple[int, str]:
    """What a visitor learns: the status and the page, with the per-session CSRF token blanked out."""
    return response.status_code, TOKEN.sub(r"\1-", response.get_data(as_text=True))


def lock_out(app: Flask, username: str, address: str = "10.0.0.66", tries: int = 6) -> None:
    attacker = visitor(app, address)
    for n in range(tries):
        assert attempt(attacker, username, f"guess-{n}-wrong").status_code == 401


def locked_until(staff_db: str, username: str):
    with Session(bind=staff_engine(staff_db)) as session:
        return session.execute(select(StaffUser.locked_until).where(StaffUser.username == username)).scalar_one()


def test_unknown_wrong_password_and_locked_account_get_the_same_answer(app, staff_db):
    lock_out(app, "sam")
    assert locked_until(staff_db, "sam") is not None
    attacker = visitor(app, "10.0.0.66")
    prober = visitor(app, "10.0.0.67")
    answers = {
        "unknown user": answer(attempt(prober, "nobody-here", "some-password-1")),
        "wrong password": answer(attempt(prober, "ada", "not-adas-password")),
        "locked, wrong password": answer(attempt(attacker, "sam", "another-guess")),
        "locked, right password": answer(attempt(attacker, "sam", PASSWORDS["sam"])),
    }
    assert len(set(answers.values())) == 1, answers
    status, page = answers["unknown user"]
    assert status == 401 and "Wrong user name or password" in page
    assert "sam" not in page and "ada" not in page and "nobody" not in page  # nothing echoed back


def test_every_path_costs_one_password_hash(app, staff_db, monkeypatch):
    """Timing: unknown names, wrong passwords, locked accounts and right passwords each verify exactly one
    argon2 hash, so response time does not tell them apart."""
    import bot.staff.auth as auth

    lock_out(app, "sam")
    calls = []

    class CountingHasher:
        def __init__(self, real) -> None:
            self.real = real

        def verify(self, hash_: str, password: str) -> bool:
            calls.append(hash_)
            return self.real.verify(hash_, password)

        def __getattr__(self, name: str):
            return getattr(self.real, name)

    monkeypatch.setattr(auth, "_hasher", CountingHasher(auth._hasher))
    attacker, other = visitor(app, "10.0.0.66"), visitor(app, "10.0.0.68")
    for staff, username, password in ((other, "nobody-here", "x-password-1"), (other, "ada", "wrong-password"),
                                      (attacker, "sam", PASSWORDS["sam"]), (other, "ada", PASSWORDS["ada"])):
        before = len(calls)
        attempt(staff, username, password)
        assert len(calls) - before == 1, (username, password)


def test_an_attackers_bad_passwords_do_not_keep_the_staff_member_out(app, staff_db):
    lock_out(app, "sam", tries=7)
    assert locked_until(staff_db, "sam") is not None
    # The attacking address stays locked out of the account, even with the right password...
    assert attempt(visitor(app, "10.0.0.66"), "sam", PASSWORDS["sam"]).status_code == 401
    # ...while Sam, at the clinic's own desk, gets in (after one typo, too).
    desk = visitor(app, "192.168.1.20")
    assert attempt(desk, "sam", "sam-passwrod-1").status_code == 401
    response = attempt(desk, "sam", PASSWORDS["sam"])
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/conversations")
    assert desk.get("/staff/conversations").status_code == 200
    # The audit log tells the clinic what happened, and from where.
    with Session(bind=staff_engine(staff_db)) as session:
        entries = [(e.action, e.detail) for e in session.execute(select(AuditEntry)).scalars()]
    assert ("login", "192.168.1.20") in entries
    assert ("login_failed_locked", "10.0.0.66") in entries


def test_one_address_is_throttled_after_ten_failed_logins(app, staff_db):
    noisy = visitor(app, "10.0.0.99")
    for n in range(10):  # the default CLINIC_STAFF_LOGIN_LIMIT: 10 failed logins a minute per address
        assert attempt(noisy, f"user{n}", "guess-password").status_code == 401
    throttled = [attempt(noisy, "sam", PASSWORDS["sam"]), attempt(noisy, "nobody", "guess-password")]
    assert [r.status_code for r in throttled] == [429, 429]
    assert answer(throttled[0]) == answer(throttled[1])  # throttled the same whoever is asked for
    assert "Too many failed logins from this address" in throttled[0].get_data(as_text=True)
    assert throttled[0].headers["Retry-After"]
    assert attempt(visitor(app, "10.0.0.100"), "sam", PASSWORDS["sam"]).status_code == 302


def test_successful_logins_do_not_use_up_the_limit(app, staff_db):
    desk = visitor(app, "10.0.0.5")
    for _ in range(12):
        assert attempt(desk, "sam", PASSWORDS["sam"]).status_code == 302
        desk.get("/staff/login")


def test_the_limit_is_a_setting(staff_db, monkeypatch):
    from bot.web.app import create_app

    monkeypatch.setenv("CLINIC_STAFF_LOGIN_LIMIT", "3 per minute")
    app = create_app({"TESTING": True, "SECRET_KEY": "k"})
    noisy = visitor(app, "10.0.0.42")
    assert [attempt(noisy, "sam", "wrong-password").status_code for _ in range(4)] == [401, 401, 401, 429]
    monkeypatch.setenv("CLINIC_STAFF_LOGIN_LIMIT", "often")  # refused at start-up: never an unthrottled login
    with pytest.raises(ValueError, match="CLINIC_STAFF_LOGIN_LIMIT='often' is not a rate"):
        create_app({"TESTING": True, "SECRET_KEY": "k"})


def test_two_web_workers_share_the_limit_and_the_marks_in_redis(staff_db, redis_url, monkeypatch):
    from bot.web.app import create_app

    monkeypatch.setenv("CLINIC_REDIS_URL", redis_url)
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    first = create_app({"TESTING": True, "SECRET_KEY": "k"})
    assert first.config["RATELIMIT_STORAGE_URI"] == redis_url
    for n in range(5):
        assert attempt(visitor(first, "10.0.0.77"), "sam", f"wrong-{n}").status_code == 401
    second = create_app({"TESTING": True, "SECRET_KEY": "k"})  # another worker: its own memory, same Redis
    for n in range(5):
        assert attempt(visitor(second, "10.0.0.77"), "nobody", f"wrong-{n}").status_code == 401
    assert attempt(visitor(second, "10.0.0.77"), "sam", PASSWORDS["sam"]).status_code == 429
    assert attempt(visitor(second, "10.0.0.78"), "sam", PASSWORDS["sam"]).status_code == 302


def test_with_redis_unreachable_logins_still_work_and_stay_throttled(staff_db, monkeypatch):
    from bot.web.app import create_app

    monkeypatch.setenv("CLINIC_REDIS_URL", f"redis://{LOOPBACK}:{free_port()}/0")  # nothing listens there
    monkeypatch.setenv("CLINIC_STAFF_LOGIN_LIMIT", "3 per minute")
    app = create_app({"TESTING": True, "SECRET_KEY": "k"})
    assert attempt(visitor(app, "10.0.0.8"), "sam", PASSWORDS["sam"]).status_code == 302
    noisy = visitor(app, "10.0.0.9")
    assert [attempt(noisy, "ada", "wrong-password").status_code for _ in range(4)] == [401, 401, 401, 429]

def test_behind_a_proxy_the_forwarded_address_is_the_one_throttled(staff_db, monkeypatch):
    from bot.web.app import create_app

    monkeypatch.setenv("CLINIC_PROXY_HOPS", "1")
    monkeypatch.setenv("CLINIC_STAFF_LOGIN_LIMIT", "2 per minute")
    app = create_app({"TESTING": True, "SECRET_KEY": "k"})
    proxy = visitor(app, "10.0.0.1")  # every request arrives from the proxy, naming the visitor it forwards
    attacker = {"X-Forwarded-For": "198.51.100.9"}
    for _ in range(2):
        assert proxy.post("/staff/login", {"username": "sam", "password": "nope"}, headers=attacker).status_code == 401
    assert proxy.post("/staff/login", {"username": "sam", "password": "nope"}, headers=attacker).status_code == 429
    sam = visitor(app, "10.0.0.1")
    response = sam.post("/staff/login", {"username": "sam", "password": PASSWORDS["sam"]},
                        headers={"X-Forwarded-For": "192.0.2.20"})
    assert response.status_code == 302
    monkeypatch.setenv("CLINIC_PROXY_HOPS", "many")
    with pytest.raises(ValueError, match="CLINIC_PROXY_HOPS"):
        create_app({"TESTING": True, "SECRET_KEY": "k"})

# ------------------------------------------------------------------ the real web server (waitress) on loopback

def post_login(port: int, source: str, username: str, password: str,
               headers: dict[str, str] | None = None) -> tuple[int, str]:
    """GET the form and POST it from the loopback address `source` (127.x.y.z), as a browser would."""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=30, source_address=(source, 0))
    try:
        conn.request("GET", "/staff/login")
        page = conn.getresponse()
        cookie = page.getheader("Set-Cookie").split(";")[0]
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode()).group(1)
        body = urlencode({"username": username, "password": password, "csrf_token": token})
        conn.request("POST", "/staff/login", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


@pytest.fixture
def web_server(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'clinic.db'}"
    engine = staff_engine(database_url)
    with Session(bind=engine) as session:
        create_user(session, "sam", PASSWORDS["sam"], "staff")
        session.commit()
    port = free_port()
    env = dict(os.environ, CLINIC_DATABASE_URL=database_url, CLINIC_SECRET_KEY="login-test",
               CLINIC_DATA_KEY_FILE=str(tmp_path / "data_key"), CLINIC_STAFF_LOGIN_LIMIT="4 per minute")
    env.pop("CLINIC_REDIS_URL", None)
    log = open(tmp_path / "web.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "bot.web", "--host", LOOPBACK, "--port", str(port)],
                               cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection(LOOPBACK, port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the web app did not start: {(tmp_path / 'web.log').read_text()[-2000:]}")
            time.sleep(0.3)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def test_the_real_server_throttles_by_address_and_ignores_forwarded_headers(web_server):
    port = web_server
    for n in range(4):
        status, _ = post_login(port, "127.0.0.66", "sam", f"wrong-{n}",
                               headers={"X-Forwarded-For": f"203.0.113.{n}"})  # a forged header changes nothing
        assert status == 401
    status, page = post_login(port, "127.0.0.66", "sam", PASSWORDS["sam"])
    assert status == 429 and "Too many failed logins" in page
    # The account is locked for the attacking address, but Sam from another address gets in.
    status, _ = post_login(port, "127.0.0.7", "sam", PASSWORDS["sam"])
    assert status == 302
