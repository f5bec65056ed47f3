"""The channels' limiter (moving windows, memory or Redis), signed socket.io session ids, namespaced ids."""
from __future__ import annotations

import pytest

from bot.channels import ids, ratelimit
from bot.channels.socketio import new_session_id, session_conversation, session_token
from tests.servers import redis_url  # noqa: F401 - pytest fixture


@pytest.fixture(autouse=True)
def fresh_limiter(monkeypatch):
    monkeypatch.delenv("CLINIC_REDIS_URL", raising=False)
    ratelimit._limiter.cache_clear()
    yield
    ratelimit._limiter.cache_clear()


def test_a_sender_gets_its_limit_and_no_more_and_others_are_apart():
    spec = "3/minute;5/hour"
    assert [ratelimit.allow("telegram", "telegram:1", spec) for _ in range(5)] == [True, True, True, False, False]
    assert ratelimit.allow("telegram", "telegram:2", spec), "another sender has its own window"
    assert ratelimit.allow("twilio", "telegram:1", spec), "and another channel's scope too"
    assert ratelimit.first_notice("telegram", "telegram:1") and not ratelimit.first_notice("telegram", "telegram:1")


def test_an_empty_limit_is_off_and_a_bad_one_is_explained():
    assert all(ratelimit.allow("rest", "rest:me", "") for _ in range(100))
    with pytest.raises(ValueError, match="20/minute"):
        ratelimit.parse("twenty a minute")


def test_two_servers_share_the_count_through_redis(redis_url, monkeypatch):  # noqa: F811
    monkeypatch.setenv("CLINIC_REDIS_URL", redis_url)
    first = ratelimit.limiter()
    ratelimit._limiter.cache_clear()
    second = ratelimit.limiter()  # a second process would build its own limiter on the same Redis
    assert first is not second
    spec = "2/minute"
    assert ratelimit.allow("web", "web:shared", spec) and ratelimit.allow("web", "web:shared", spec)
    ratelimit._limiter.cache_clear()
    assert not ratelimit.allow("web", "web:shared", spec), "the count lives in Redis, not in the process"


def test_a_limiter_that_cannot_be_reached_lets_messages_through(monkeypatch, caplog):
    monkeypatch.setenv("CLINIC_REDIS_URL", "redis://127.0.0.1:1/0")
    assert ratelimit.allow("telegram", "telegram:1", "1/minute")
    assert ratelimit.allow("telegram", "telegram:1", "1/minute"), "fail open: a reply matters more"
    assert "rate limiter unavailable" in caplog.text


def test_socket_session_ids_are_signed_tokens(monkeypatch):
    monkeypatch.setenv("CLINIC_SECRET_KEY", "test-secret-one")
    session = new_session_id()
    token = session_token(session)
    assert token and session.startswith(token + ".") and len(token) >= 32
    assert session_conversation(session) == f"web:{token}"
    assert new_session_id() != session
    for forged in (token, token + ".AAAA", "0" * 32, session + "x", None, 42, ["x"], "x" * 500):
        assert session_token(forged) is None, forged
    monkeypatch.setenv("CLINIC_SECRET_KEY", "another-secret")
    assert session_token(session) is None, "signed with the clinic's key: another key refuses it"


@pytest.mark.parametrize("channel, platform, expected", [
    ("telegram", 12345, "telegram:12345"),
    ("whatsapp", "447700900123", "whatsapp:+447700900123"),
    ("twilio", "whatsapp:+447700900123", "twilio:+447700900123"),
    ("socketio", "abc", "web:abc"),
    ("rest", "whatsapp:+447700900123", "rest:whatsapp:+447700900123"),
    ("rest", "+447700900123", "rest:+447700900123"),
])
def test_conversation_ids_are_namespaced_by_channel(channel, platform, expected):
    assert ids.conversation_id(channel, platform) == expected
    assert ids.split(expected) == (channel, expected.split(":", 1)[1])


def test_ids_that_do_not_belong_to_a_channel_are_refused():
    with pytest.raises(ids.ConversationIdError):
        ids.conversation_id("whatsapp", "not-a-number")
    with pytest.raises(ids.ConversationIdError):
        ids.platform_id("telegram", "rest:12345")
    assert ids.platform_id("telegram", "telegram:12345") == "12345"
    assert ids.split("12345") == (None, "12345")
