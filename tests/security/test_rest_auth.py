"""REST needs `Authorization: Bearer <CLINIC_REST_TOKEN>` once it is protected (bot/server/rest_auth.py); open
on loopback for `make run` and the tests; the server refuses to start unprotected; Rasa's HTTP API is off."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import requests

from bot.build import MODEL_FILE
from bot.launcher import LOOPBACK, free_port
from bot.paths import PROJECT_ROOT
from bot.server.rest_auth import bearer_token, start_problem, token_matches
from bot.server.security_settings import SecuritySettings, is_loopback_interface
from tests.security.conftest import REST_PATH, client_from, stored_senders

pytestmark = pytest.mark.security

GOOD_TOKEN = "k" * 40


def body(sender: str, message: str = "hello") -> dict:
    return {"sender": sender, "message": message}


# --- the rules, in process ---
@pytest.mark.parametrize("interface, loopback", [
    ("127.0.0.1", True), ("127.0.0.53", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("clinic.example", False), (None, False),
])
def test_which_interfaces_are_loopback(interface, loopback):
    assert is_loopback_interface(interface) is loopback


@pytest.mark.parametrize("env, interface, refused_for", [
    ({}, "127.0.0.1", None),                                               # make run, the tests
    ({}, "0.0.0.0", "CLINIC_REST_TOKEN"),                                  # Rasa's default interface
    ({"CLINIC_ENV": "production"}, "127.0.0.1", "CLINIC_ENV=production"),  # behind a proxy on one host
    ({"CLINIC_REQUIRE_REST_TOKEN": "1"}, "127.0.0.1", "CLINIC_REST_TOKEN"),
    ({"CLINIC_ENV": "production", "CLINIC_REST_TOKEN": "short"}, "127.0.0.1", "at least 32"),
    ({"CLINIC_ENV": "production", "CLINIC_REST_TOKEN": GOOD_TOKEN}, "0.0.0.0", None),
])
def test_start_up_needs_a_token_when_rest_is_protected(env, interface, refused_for):
    problem = start_problem(SecuritySettings.from_env(env), {"interface": interface, "enable_api": False})
    if refused_for is None:
        assert problem is None
    else:
        assert problem is not None and refused_for in problem


@pytest.mark.parametrize("server, refused", [
    ({"interface": "127.0.0.1", "enable_api": True}, True),
    ({"interface": "127.0.0.1", "enable_api": True, "auth_token": "secret-for-the-api"}, False),
    ({"interface": "127.0.0.1", "enable_api": True, "jwt_secret": "jwt-secret"}, False),
])
def test_rasa_http_api_never_runs_without_its_own_auth(server, refused):
    problem = start_problem(SecuritySettings.from_env({}), server)
    assert (problem is not None and "--auth-token" in problem) is refused


@pytest.mark.parametrize("header, token", [
    ("Bearer abc", "abc"), ("bearer abc", "abc"), ("  Bearer   abc  ", "abc"), ("Basic abc", None),
    ("Bearer", None), ("", None), (None, None), ("abc", None),
])
def test_bearer_header_parsing(header, token):
    assert bearer_token(header) == token


def test_token_comparison():
    assert token_matches(GOOD_TOKEN, GOOD_TOKEN)
    assert not token_matches(GOOD_TOKEN[:-1] + "x", GOOD_TOKEN)
    assert not token_matches(GOOD_TOKEN + "x", GOOD_TOKEN)
    assert not token_matches(None, GOOD_TOKEN)
    assert not token_matches("é" * 40, GOOD_TOKEN)  # non-ASCII is compared as bytes, no TypeError


# --- the real servers ---
def test_protected_rest_refuses_requests_without_the_right_token(protected_bot):
    client = client_from("127.0.0.11")
    marker = f"auth-{uuid.uuid4().hex[:10]}"
    wrong = "x" * len(protected_bot.token)
    attempts = {
        "none": {},
        "wrong": {"Authorization": f"Bearer {wrong}"},
        "prefix": {"Authorization": f"Bearer {protected_bot.token[:-1]}"},
        "longer": {"Authorization": f"Bearer {protected_bot.token}x"},
        "basic": {"Authorization": f"Basic {protected_bot.token}"},
        "query": {},
    }
    for name, headers in attempts.items():
        url = protected_bot.rest_url + (f"?token={protected_bot.token}" if name == "query" else "")
        response = client.post(url, json=body(f"{marker}-{name}"), headers=headers, timeout=30)
        assert response.status_code == 401, (name, response.status_code, response.text)
        assert response.headers.get("WWW-Authenticate", "").startswith("Bearer")
        assert "token" in response.json()["error"]
    # nothing reached the conversation log
    assert stored_senders(protected_bot.database_url, marker) == set()


def test_protected_rest_answers_with_the_right_token(protected_bot):
    client = client_from("127.0.0.12")
    sender = f"auth-ok-{uuid.uuid4().hex[:10]}"
    response = client.post(protected_bot.rest_url, json=body(sender, "hello"), headers=protected_bot.auth(),
                           timeout=60)
    assert response.status_code == 200, response.text
    replies = response.json()
    assert replies and any(reply.get("text") for reply in replies)
    assert any(sender in stored for stored in stored_senders(protected_bot.database_url, sender))


def test_loopback_rest_is_open_for_make_run_and_the_tests(running_bot):
    sender = f"open-{uuid.uuid4().hex[:10]}"
    response = requests.post(f"{running_bot.rasa_url}{REST_PATH}", json=body(sender), timeout=60)
    assert response.status_code == 200 and response.json()


def test_loopback_rest_through_a_proxy_needs_the_token(running_bot, e2e_database_url):
    # nginx on the same host forwards the public's requests from 127.0.0.1: they must not count as local
    marker = f"proxied-{uuid.uuid4().hex[:10]}"
    for header in ("X-Forwarded-For", "X-Real-IP", "Forwarded"):
        value = "for=203.0.113.9" if header == "Forwarded" else "203.0.113.9"
        response = requests.post(f"{running_bot.rasa_url}{REST_PATH}", json=body(f"{marker}-{header}"),
                                 headers={header: value}, timeout=30)
        assert response.status_code == 401, (header, response.text)
    assert stored_senders(e2e_database_url, marker) == set()


def test_rasa_http_api_is_not_served(running_bot, protected_bot):
    # `rasa run` without --enable-api: no /status, /version, trackers or model replacement
    for bot_url in (running_bot.rasa_url, protected_bot.rasa_url):
        for method, path in (("GET", "/status"), ("GET", "/version"), ("GET", "/conversations/x/tracker"),
                             ("PUT", "/model"), ("POST", "/model/parse")):
            response = requests.request(method, f"{bot_url}{path}", json={}, timeout=10)
            assert response.status_code in (404, 405), (bot_url, method, path, response.status_code)


# --- start-up refusals of the real server command ---
def server_command(*extra: str) -> list[str]:
    return [sys.executable, "-m", "bot.server", "run", "--model", str(MODEL_FILE), "--port", str(free_port()),
            "--credentials", str(PROJECT_ROOT / "credentials.yml"), *extra]


@pytest.mark.parametrize("extra, env, expected", [
    (("--interface", "0.0.0.0"), {}, "CLINIC_REST_TOKEN"),
    (("--interface", LOOPBACK), {"CLINIC_ENV": "production"}, "CLINIC_ENV=production"),
    (("--interface", LOOPBACK), {"CLINIC_ENV": "production", "CLINIC_REST_TOKEN": "too-short"}, "at least 32"),
    (("--interface", LOOPBACK, "--enable-api"), {}, "--auth-token"),
], ids=["beyond-loopback", "production", "short-token", "http-api"])
def test_the_server_refuses_to_start_unprotected(extra, env, expected, tmp_path):
    environment = {k: v for k, v in os.environ.items()
                   if k not in {"CLINIC_ENV", "CLINIC_REST_TOKEN", "CLINIC_REQUIRE_REST_TOKEN"}}
    environment.update(env, CLINIC_DATABASE_URL=f"sqlite:///{tmp_path / 'clinic.db'}")
    try:
        result = subprocess.run(server_command(*extra), cwd=PROJECT_ROOT, env=environment, capture_output=True,
                                text=True, timeout=180)
    except subprocess.TimeoutExpired as error:
        raise AssertionError(f"the server started instead of refusing: {extra} {env}") from error
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "refusing to start the Rasa server" in output and expected in output, output[-2000:]
