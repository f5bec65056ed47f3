"""Request body limit on every route (413 with a JSON body) and the per-address REST rate limit (429 with
Retry-After), in memory or shared through Redis (bot/server/request_limits.py)."""
from __future__ import annotations

import json
import socket
import time
import uuid
from urllib.parse import urlparse

import pytest
import requests

from bot.server.request_limits import AddressRateLimiter, json_too_deep
from bot.server.security_settings import DEFAULT_MAX_BODY_BYTES
from tests.security.conftest import PROTECTED_RATE_LIMIT, REST_PATH, client_from, stored_senders
from tests.servers import redis_url  # noqa: F401 - pytest fixture

pytestmark = pytest.mark.security

LIMIT = DEFAULT_MAX_BODY_BYTES


def padded_body(sender: str, size: int) -> bytes:
    """A valid REST body of exactly `size` bytes: a short message, padded in its metadata (a long message
    would measure the NLU pipeline, not the body limit)."""
    skeleton = json.dumps({"sender": sender, "message": "hello", "metadata": {"pad": ""}}).encode()
    body = json.dumps({"sender": sender, "message": "hello", "metadata": {"pad": "p" * (size - len(skeleton))}})
    assert len(body) == size
    return body.encode()


def assert_too_large(response: requests.Response) -> None:
    assert response.status_code == 413, (response.status_code, response.text[:300])
    answer = response.json()
    assert answer["status"] == 413 and answer["limit_bytes"] == LIMIT and "too large" in answer["error"]


def test_a_2mb_rest_body_is_refused_and_not_processed(running_bot, e2e_database_url):
    sender = f"big-{uuid.uuid4().hex[:10]}"
    response = requests.post(f"{running_bot.rasa_url}{REST_PATH}", data=padded_body(sender, 2_000_000),
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert_too_large(response)
    assert stored_senders(e2e_database_url, sender) == set()


def test_just_over_the_limit_is_refused_and_just_under_is_answered(running_bot, e2e_database_url):
    over = f"over-{uuid.uuid4().hex[:10]}"
    assert_too_large(requests.post(f"{running_bot.rasa_url}{REST_PATH}", data=padded_body(over, LIMIT + 1),
                                   headers={"Content-Type": "application/json"}, timeout=30))
    under = f"under-{uuid.uuid4().hex[:10]}"
    response = requests.post(f"{running_bot.rasa_url}{REST_PATH}", data=padded_body(under, LIMIT - 100),
                             headers={"Content-Type": "application/json"}, timeout=120)
    assert response.status_code == 200 and response.json(), response.text[:300]
    assert stored_senders(e2e_database_url, over) == set() and stored_senders(e2e_database_url, under)


def test_a_chunked_body_without_content_length_is_cut_off(running_bot):
    def chunks():
        yield b'{"sender": "chunked", "message": "'
        for _ in range(200):
            yield b"a" * 1000  # 200 KB in all, never announced
        yield b'"}'

    response = requests.post(f"{running_bot.rasa_url}{REST_PATH}", data=chunks(),
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert_too_large(response)


def declare_a_large_body(rasa_url: str, path: str, size: int = 1_000_000) -> str:
    """Send only the head of a POST announcing `size` bytes; return the status line of the answer."""
    host = urlparse(rasa_url)
    with socket.create_connection((host.hostname, host.port), timeout=10) as connection:
        connection.sendall(f"POST {path} HTTP/1.1\r\nHost: {host.netloc}\r\nContent-Type: application/json\r\n"
                           f"Content-Length: {size}\r\n\r\n".encode() + b"{" * 1000)
        answer = b""
        while b"\r\n" not in answer:
            data = connection.recv(4096)
            if not data:
                break
            answer += data
    return answer.split(b"\r\n", 1)[0].decode()


@pytest.mark.parametrize("path", [REST_PATH, "/socket.io/?EIO=4&transport=polling"])
def test_every_route_refuses_a_large_body_before_reading_it(running_bot, path):
    assert " 413 " in declare_a_large_body(running_bot.rasa_url, path)


# --- per-address rate limit on the protected bot (each test has its own loopback source address) ---
def test_rest_rate_limit_answers_429_with_retry_after(protected_bot):
    client = client_from("127.0.0.21")
    sender = f"rate-{uuid.uuid4().hex[:8]}"
    statuses = []
    for number in range(PROTECTED_RATE_LIMIT):
        response = client.post(protected_bot.rest_url, json={"sender": f"{sender}-{number}", "message": "hi"},
                               headers=protected_bot.auth(), timeout=60)
        statuses.append(response.status_code)
    assert statuses == [200] * PROTECTED_RATE_LIMIT
    refused = client.post(protected_bot.rest_url, json={"sender": f"{sender}-over", "message": "hi"},
                          headers=protected_bot.auth(), timeout=30)
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert refused.json()["retry_after"] == retry_after and "too many requests" in refused.json()["error"]
    assert stored_senders(protected_bot.database_url, f"{sender}-over") == set()
    # another address still gets through: the limit is per address
    other = client_from("127.0.0.22").post(protected_bot.rest_url, json={"sender": f"{sender}-b", "message": "hi"},
                                           headers=protected_bot.auth(), timeout=60)
    assert other.status_code == 200


def test_token_guessing_is_rate_limited_too(protected_bot):
    client = client_from("127.0.0.23")
    statuses = [client.post(protected_bot.rest_url, json={"sender": "guess", "message": "hi"},
                            headers={"Authorization": f"Bearer guess-{n:040d}"}, timeout=30).status_code
                for n in range(PROTECTED_RATE_LIMIT + 3)]
    assert statuses[:PROTECTED_RATE_LIMIT] == [401] * PROTECTED_RATE_LIMIT
    assert statuses[PROTECTED_RATE_LIMIT:] == [429] * 3
    # even the right token waits now: the address used up its budget
    assert client.post(protected_bot.rest_url, json={"sender": "guess", "message": "hi"},
                       headers=protected_bot.auth(), timeout=30).status_code == 429


def test_open_loopback_rest_has_no_address_limit(running_bot):
    # make run, the test suite and bench/ send hundreds of messages from 127.0.0.1
    statuses = {requests.post(f"{running_bot.rasa_url}{REST_PATH}", json={"sender": 1, "message": 2},
                              timeout=30).status_code for _ in range(70)}
    assert 429 not in statuses


# --- the limiter itself: moving window, Redis shared between servers ---
def test_moving_window_in_memory():
    limiter = AddressRateLimiter("3/second")
    assert [limiter.hit("10.0.0.1") for _ in range(3)] == [None, None, None]
    assert limiter.hit("10.0.0.1") == 1
    assert limiter.hit("10.0.0.2") is None
    time.sleep(1.1)
    assert limiter.hit("10.0.0.1") is None


def test_several_limits_each_apply():
    limiter = AddressRateLimiter("5/minute;2/second")
    assert [limiter.hit("a") for _ in range(2)] == [None, None]
    assert limiter.hit("a") == 1  # the per-second limit
    time.sleep(1.1)
    assert [limiter.hit("a") for _ in range(2)] == [None, None]
    assert limiter.hit("a") > 1  # five used: the per-minute limit, about a minute away


def test_servers_sharing_redis_share_one_budget(redis_url):  # noqa: F811 - the fixture
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    first = AddressRateLimiter("4/minute", redis_url, namespace=namespace)
    second = AddressRateLimiter("4/minute", redis_url, namespace=namespace)
    assert [first.hit("198.51.100.7"), second.hit("198.51.100.7"), first.hit("198.51.100.7"),
            second.hit("198.51.100.7")] == [None] * 4
    assert second.hit("198.51.100.7") is not None and first.hit("198.51.100.7") is not None
    # each in memory would have let 8 through
    alone = [AddressRateLimiter("4/minute"), AddressRateLimiter("4/minute")]
    assert all(limiter.hit("x") is None for limiter in alone for _ in range(4))


def test_a_bad_limit_setting_is_a_clear_error():
    with pytest.raises(ValueError, match="CLINIC_REST_ADDRESS_RATE_LIMIT"):
        AddressRateLimiter("lots please")


# --- nesting depth: Rasa deep-copies a REST message's metadata and fails with RecursionError far below 64 KB ---
def nested_metadata(sender: str, depth: int) -> bytes:
    metadata = '{"a":' * depth + "1" + "}" * depth
    return f'{{"sender": "{sender}", "message": "hello", "metadata": {metadata}}}'.encode()


def test_deeply_nested_json_is_a_clear_400_and_not_stored(running_bot, e2e_database_url):
    deep = f"deep-{uuid.uuid4().hex[:10]}"
    response = requests.post(f"{running_bot.rasa_url}{REST_PATH}", data=nested_metadata(deep, 400),
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 400 and "nested deeper" in response.json()["error"]
    assert stored_senders(e2e_database_url, deep) == set()
    shallow = f"shallow-{uuid.uuid4().hex[:10]}"
    response = requests.post(f"{running_bot.rasa_url}{REST_PATH}", data=nested_metadata(shallow, 8),
                             headers={"Content-Type": "application/json"}, timeout=60)
    assert response.status_code == 200 and response.json()  # a platform-like depth is answered
    assert stored_senders(e2e_database_url, shallow)


@pytest.mark.parametrize("body, too_deep", [
    (b'{"a": [1, {"b": 2}]}', False),
    (b"[" * 32 + b"]" * 32, False),
    (b"[" * 33 + b"]" * 33, True),
    (b'{"text": "' + b"[" * 100 + b'"}', False),          # brackets inside a string do not count
    (b'{"t": "\\\\", "x": ' + b"[" * 40 + b"]" * 40 + b"}", True),  # an escaped backslash ends nothing early
])
def test_json_depth_scanner(body, too_deep):
    assert json_too_deep(body) is too_deep
