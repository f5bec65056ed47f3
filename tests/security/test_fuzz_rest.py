"""Hostile input against the real REST endpoint (Hypothesis, bounded): malformed JSON, wrong types, huge and
deeply nested bodies, odd Unicode, HTML/SQL fragments, Rasa's /intent syntax. Every request gets a clear reply
(200 with the bot's messages) or a clear 4xx with a JSON error; never a 5xx; the server stays up; a rejected
request leaves nothing in the conversation log."""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.server.security_settings import DEFAULT_MAX_BODY_BYTES
from tests.security.conftest import REST_PATH, stored_senders

pytestmark = [pytest.mark.security, pytest.mark.fuzz]

EXAMPLES = 320
RUN = uuid.uuid4().hex[:6]
FRAGMENTS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "' OR '1'='1", "1; DROP TABLE events;--",
    "\" onmouseover=\"x", "{{7*7}}", "${jndi:ldap://127.0.0.1/a}", "../../etc/passwd", "%s%s%n%x", "\\x00",
    "/restart", "/red_flag", "/greet{\"name\": \"x\"}", "/session_start", "/nlu_fallback", "]]>", "<!--",
    "SELECT * FROM escalations", "admin'--", "\r\nX-Injected: 1", "null", "true", "[]", "{}",
]
ODD_UNICODE = [
    "\ud800 lone", "x \udfff",
    "\u202emirrored", "zero\u200bwidth\u200djoin", "e\u0301\u0301\u0301\u0301", "\U0001F9B6\U0001F3FD\u200d",
    "\ufeffbom", "line\u2028sep", "\u0000nul", "\uffff", "\U0010FFFF", "ß\u0130\u0131", "\u4e2d\u6587\u8db3\u8ddf",
    "\u0645\u0631\u062d\u0628\u0627", "A" * 3000, "\t\n\r ", "\u00a0\u3000",
]
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)), max_leaves=12)
TEXTS = st.one_of(
    st.text(max_size=200),
    st.sampled_from(FRAGMENTS + ODD_UNICODE),
    st.lists(st.sampled_from(FRAGMENTS + ODD_UNICODE + ["heel", "calf", "pain", "run"]), max_size=6).map(" ".join),
)


@dataclass
class Case:
    kind: str
    body: bytes
    content_type: str | None
    query: str
    sender: str | None = None   # the marked sender of a well-formed body, to look for in the log afterwards
    valid: bool = False         # a JSON object with a string sender and a string message


def marked(n: int, tail: str) -> str:
    return f"fz{RUN}n{n}x{tail}"


def storable(body: dict) -> bool:
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@st.composite
def cases(draw, counter=iter(range(10**9))) -> Case:
    n = next(counter)
    content_type = draw(st.sampled_from(["application/json", "application/json", "text/plain", None,
                                         "application/x-www-form-urlencoded", "application/json; charset=latin-1"]))
    query = draw(st.sampled_from(["", "", "", "?stream=true", "?stream=nope", "?token=x&sender=y"]))
    kind = draw(st.sampled_from(["message", "message", "wrong_types", "json_value", "raw_bytes", "broken_json",
                                 "deep", "huge", "extra_keys"]))
    sender = marked(n, draw(st.sampled_from(["", "-", " ", "é", "'; --", "<b>"])))
    if kind in ("message", "extra_keys"):
        body = {"sender": sender, "message": draw(TEXTS)}
        if kind == "extra_keys":
            body.update(draw(st.dictionaries(st.sampled_from(["metadata", "input_channel", "sender_id", "stream",
                                                              "__proto__", "text", "message_id"]),
                                             JSON_VALUES, max_size=3)))
        # a lone surrogate cannot be stored in the conversation log: such a message must get a clear 400
        valid = not isinstance(body.get("metadata"), (list, str, int, float, bool)) and storable(body)
        raw = json.dumps(body, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
        return Case(kind, raw, content_type, query, sender, valid)
    if kind == "wrong_types":
        body = {"sender": draw(st.one_of(JSON_VALUES, st.just(sender))), "message": draw(JSON_VALUES)}
        valid = (isinstance(body["sender"], str) and isinstance(body["message"], str)
                 and bool(body["sender"].strip()) and storable(body))
        return Case(kind, json.dumps(body).encode(), content_type, query,
                    body["sender"] if isinstance(body["sender"], str) else None, valid)
    if kind == "json_value":
        return Case(kind, json.dumps(draw(JSON_VALUES)).encode(), content_type, query)
    if kind == "raw_bytes":
        return Case(kind, draw(st.binary(max_size=400)), content_type, query)
    if kind == "broken_json":
        whole = json.dumps({"sender": sender, "message": draw(TEXTS)})
        cut = draw(st.integers(1, max(1, len(whole) - 1)))
        junk = draw(st.sampled_from(["", "\x00", "}", "{", "\"", ",", "\\", "\\ud800", "NaN", "\ufffd"]))
        return Case(kind, (whole[:cut] + junk).encode("utf-8", "surrogatepass"), content_type, query, sender)
    if kind == "deep":
        depth = draw(st.one_of(st.integers(1, 64), st.integers(65, 30_000)))
        opening, closing = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        nested = opening * depth + "1" + closing * depth
        where = draw(st.sampled_from(["whole", "metadata", "message"]))
        if where == "whole":
            return Case(kind, nested.encode(), content_type, query)
        rest = "" if where == "message" else ', "message": "hi"'
        text = f'{{"sender": "{sender}", "{where}": {nested}{rest}}}'
        return Case(kind, text.encode(), content_type, query, sender)
    # huge: over the server's body limit
    size = draw(st.integers(DEFAULT_MAX_BODY_BYTES + 1, 3 * DEFAULT_MAX_BODY_BYTES))
    filler = "x" * size
    return Case(kind, json.dumps({"sender": sender, "message": filler}).encode(), content_type, query, sender)


def check_answer(case: Case, response: requests.Response) -> bool:
    """Assert the answer is clear; True if the message was accepted."""
    assert response.status_code < 500, (case.kind, response.status_code, response.text[:300], case.body[:200])
    if response.status_code == 200:
        if "stream=true" in case.query and response.headers.get("content-type", "").startswith("text/event-stream"):
            replies = [json.loads(line) for line in response.text.splitlines() if line.strip()]
        else:
            replies = response.json()
        assert isinstance(replies, list) and replies, (case.kind, response.text[:300])  # the bot said something
        assert all(isinstance(reply, dict) and "recipient_id" in reply for reply in replies)
        return True
    assert 400 <= response.status_code < 500
    answer = response.json()  # a JSON error that says what is wrong
    assert isinstance(answer, dict) and isinstance(answer.get("error"), str) and answer["error"], answer
    if case.kind == "huge":
        assert response.status_code == 413
    return False


MARK = re.compile(rf"fz{RUN}n(\d+)x")


def test_hostile_rest_bodies(running_bot, e2e_database_url):
    url = f"{running_bot.rasa_url}{REST_PATH}"
    session = requests.Session()
    outcome: dict[int, bool] = {}   # example number -> accepted, for the marked senders
    described: dict[int, str] = {}
    kinds: dict[str, int] = {}
    seen = []

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.filter_too_much, HealthCheck.large_base_example])
    @given(case=cases())
    def one_request(case: Case) -> None:
        headers = {"Content-Type": case.content_type} if case.content_type else {}
        response = session.post(url + case.query, data=case.body, headers=headers, timeout=120)
        accepted = check_answer(case, response)
        seen.append(case.kind)
        kinds[case.kind] = kinds.get(case.kind, 0) + 1
        mark = MARK.search(case.sender or "")
        if mark:
            outcome[int(mark.group(1))] = accepted
            described[int(mark.group(1))] = f"{case.kind} {case.query!r} {response.status_code} {case.body[:80]!r}"
        if case.valid:
            assert accepted or response.status_code == 413, (case.body[:200], response.text[:200])

    one_request()
    assert len(seen) >= 300, len(seen)
    assert all(kinds.get(kind) for kind in ("message", "wrong_types", "raw_bytes", "broken_json", "deep", "huge"))
    # the server is still up and still answers
    assert all(service.process.poll() is None for service in running_bot.services)
    alive = session.post(url, json={"sender": marked(10**9, "alive"), "message": "hello"}, timeout=60)
    assert alive.status_code == 200 and alive.json()
    # rejected requests left nothing in the conversation log; accepted ones are there (so the check can fail)
    stored = {int(m.group(1)) for sender in stored_senders(e2e_database_url, f"fz{RUN}n") if (m := MARK.search(sender))}
    rejected = {n for n, accepted in outcome.items() if not accepted}
    assert stored & rejected == set(), [described[n] for n in sorted(stored & rejected)]
    accepted = {n for n, ok in outcome.items() if ok}
    assert accepted and accepted <= stored, [described[n] for n in sorted(accepted - stored)]
