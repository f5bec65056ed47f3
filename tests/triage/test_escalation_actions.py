"""Escalation actions with Tracker.from_dict and CollectingDispatcher: records, consent, notifiers, odd input."""
from __future__ import annotations

import asyncio
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from actions.escalation import (
    ActionEscalate,
    ActionEscalationDeclined,
    ActionSubmitContact,
    ValidateContactForm,
)
from bot import escalations
from bot.triage.advice import reminder_text
from tests.triage.conftest import make_tracker, user_event


def slots_of(events) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def texts(dispatcher) -> list[str]:
    return [m.get("text") or "" for m in dispatcher.messages]


def escalate(dispatcher, **kwargs):
    return slots_of(asyncio.run(ActionEscalate().run(dispatcher, make_tracker(**kwargs), {})))


def test_escalate_gives_advice_stores_record_and_offers_contact(dispatcher):
    slots = escalate(dispatcher, text="I heard a pop in my achilles, can I keep running?")
    assert slots["escalation_open"] is True and slots["escalation_level"] == "same_day"
    record = escalations.get_escalation(int(slots["escalation_id"]))
    assert record.level == "same_day" and "rupture_pop_snap" in record.flags
    assert record.conversation_id == "runner-1" and record.channel == "rest"
    assert record.message.startswith("I heard a pop") and record.notified is False
    advice_text, offer = texts(dispatcher)
    assert "can be a sign of" in advice_text and "stop running" in advice_text and "111" in advice_text
    assert "+44 20 7946 0123" in advice_text
    assert [b["payload"] for b in dispatcher.messages[1]["buttons"]] == ["/affirm", "/deny"]
    for message in dispatcher.messages:  # plain text for WhatsApp/Telegram
        assert "<" not in message["text"] and "**" not in message["text"] and "diagnos" not in message["text"].lower()


def test_emergency_advice_names_the_emergency_number(dispatcher):
    slots = escalate(dispatcher, text="my calf is swollen and now I have chest pain")
    assert slots["escalation_level"] == "emergency"
    assert "call 999 now" in texts(dispatcher)[0]


def test_chest_pain_after_a_calf_sign_in_an_earlier_turn(dispatcher):
    earlier = [user_event("my calf is red and swollen since the flight", red_flags={
        "level": "same_day", "flags": ["possible_clot_calf"], "negated": [], "signals": ["calf_sign"]})]
    slots = escalate(dispatcher, text="now my chest feels tight", earlier=earlier)
    record = escalations.get_escalation(int(slots["escalation_id"]))
    assert record.level == "emergency" and record.flags.startswith("chest_symptoms_with_calf")


def test_classifier_only_escalation_is_same_day(dispatcher):
    slots = escalate(dispatcher, text="something bad happened to my leg",
                     red_flags={"level": "same_day", "flags": ["classifier"], "negated": []})
    assert escalations.get_escalation(int(slots["escalation_id"])).flags == "classifier"


def _fill_form(tracker_slots: dict) -> list:
    tracker = make_tracker(text="yes", intent="affirm", red_flags={}, slots=tracker_slots)
    dispatcher = pytest.importorskip("rasa_sdk.executor").CollectingDispatcher()
    return ActionSubmitContact().run(dispatcher, tracker, {}), dispatcher


def test_contact_details_are_stored_with_consent(dispatcher):
    slots = escalate(dispatcher, text="can't stand on tiptoe since last night")
    events, submit = _fill_form({**slots, "contact_name": "Sam Runner", "contact_details": "+447700900123",
                                 "contact_consent": True})
    record = escalations.get_escalation(int(slots["escalation_id"]))
    assert record.contact_name == "Sam Runner" and record.contact_details == "+447700900123" and record.consent is True
    assert "will contact you" in texts(submit)[0]
    assert reminder_text("same_day") in texts(submit)[0]
    assert slots_of(events)["contact_details"] is None  # the details do not linger in the tracker's slots


def test_no_details_stored_without_consent(dispatcher):
    slots = escalate(dispatcher, text="my heel is red and swollen and I have a fever")
    _, submit = _fill_form({**slots, "contact_name": "Sam", "contact_details": "sam@example.com",
                            "contact_consent": False})
    record = escalations.get_escalation(int(slots["escalation_id"]))
    assert record.consent is False and record.contact_name is None and record.contact_details is None
    assert "not stored" in texts(submit)[0] and "will contact you" not in texts(submit)[0]


def test_cancelled_form_says_so_politely(dispatcher):
    slots = escalate(dispatcher, text="I can't walk on it")
    _, submit = _fill_form({**slots, "contact_cancelled": True})
    assert "won't take your details" in texts(submit)[0]
    assert escalations.get_escalation(int(slots["escalation_id"])).contact_details is None


def test_commit_failure_never_promises_a_call_back(dispatcher, monkeypatch):
    slots = escalate(dispatcher, text="I heard a snap in my heel")

    def broken(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(escalations, "add_contact", broken)
    _, submit = _fill_form({**slots, "contact_name": "Sam", "contact_details": "07700900123", "contact_consent": True})
    assert "could not save" in texts(submit)[0] and "+44 20 7946 0123" in texts(submit)[0]
    assert "will contact you" not in texts(submit)[0]


def test_store_failure_in_escalate_still_gives_advice(dispatcher, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(escalations, "create_escalation", broken)
    slots = escalate(dispatcher, text="I heard a pop")
    assert "escalation_id" not in slots and slots["escalation_open"] is True
    assert "can be a sign of" in texts(dispatcher)[0]
    assert "call them yourself" in texts(dispatcher)[1]


class Exploding:
    name = "exploding"

    def send(self, payload):
        raise TimeoutError("webhook timed out")


def test_a_notifier_that_raises_loses_nothing(dispatcher, monkeypatch):
    import bot.notify as notify

    monkeypatch.setattr(notify, "notifiers_from_env", lambda env=None: [Exploding()])
    slots = escalate(dispatcher, text="felt like someone kicked me in the back of the leg")
    record = escalations.get_escalation(int(slots["escalation_id"]))
    assert record is not None and record.notified is False
    assert len(dispatcher.messages) == 2  # advice and offer still sent


@pytest.fixture
def webhook_server():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server API
            length = int(self.headers.get("Content-Length", 0))
            received.append({"body": json.loads(self.rfile.read(length)), "type": self.headers["Content-Type"]})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = HTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/hook", received
    server.shutdown()
    server.server_close()


def test_webhook_notifier_posts_the_escalation_json(dispatcher, monkeypatch, webhook_server):
    url, received = webhook_server
    monkeypatch.setenv("CLINIC_STAFF_WEBHOOK_URL", url)
    slots = escalate(dispatcher, text="I think I have torn my achilles")
    assert len(received) == 1 and received[0]["type"] == "application/json"
    body = received[0]["body"]
    assert body["event"] == "created" and body["id"] == int(slots["escalation_id"])
    assert body["level"] == "same_day" and "rupture_reported" in body["flags"]
    assert body["conversation_id"] == "runner-1"
    assert escalations.get_escalation(body["id"]).notified is True
    # the patient's words stay in the console: a webhook relay (chat, pager) is outside the clinic's systems
    assert "torn" not in json.dumps(body) and "message" not in body


def test_webhook_that_is_down_keeps_notified_false(dispatcher, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("CLINIC_STAFF_WEBHOOK_URL", f"http://127.0.0.1:{port}/nothing-listens")
    slots = escalate(dispatcher, text="I heard a pop")
    assert escalations.get_escalation(int(slots["escalation_id"])).notified is False


def test_a_later_red_flag_updates_the_open_escalation(dispatcher):
    first = escalate(dispatcher, text="my achilles has been sore for 3 weeks")
    later = escalate(CollectingDispatcherFactory(), text="and now I heard a pop", slots=first)
    assert later["escalation_id"] != first["escalation_id"]  # more severe: a new record, staff paged again
    again = escalate(CollectingDispatcherFactory(), text="I also can't stand on tiptoe", slots=later)
    assert again["escalation_id"] == later["escalation_id"]
    record = escalations.get_escalation(int(later["escalation_id"]))
    assert "cannot_push_off_or_tiptoe" in record.flags and "tiptoe" in record.notes


def CollectingDispatcherFactory():  # noqa: N802 - reads like a class at the call site
    from rasa_sdk.executor import CollectingDispatcher

    return CollectingDispatcher()


def test_red_flag_during_the_form_stops_the_form(dispatcher):
    events = asyncio.run(ActionEscalate().run(dispatcher, make_tracker(text="oh no it just popped again",
                                              active_loop={"name": "contact_form"}), {}))
    assert any(e.get("event") == "active_loop" and e.get("name") is None for e in events)


def test_declined_repeats_the_advice(dispatcher):
    ActionEscalationDeclined().run(dispatcher, make_tracker(text="no", intent="deny", red_flags={},
                                                            slots={"escalation_level": "same_day"}), {})
    assert "won't take your details" in texts(dispatcher)[0] and "111" in texts(dispatcher)[0]
    assert dispatcher.messages[0]["triage"]["level"] == "same_day"  # channels mark it urgent from this


def _validate(slot: str, value: str, dispatcher):
    tracker = make_tracker(text=value, intent="inform", red_flags={}, slots={"requested_slot": slot, slot: value},
                           active_loop={"name": "contact_form"})
    tracker.events.append({"event": "slot", "name": slot, "value": value})  # what action_extract_slots did
    return asyncio.run(ValidateContactForm().run(dispatcher, tracker, {"slots": {}, "forms": {
        "contact_form": {"required_slots": ["contact_name", "contact_details", "contact_consent"]}}}))


@pytest.mark.parametrize("value,expected", [("07700 900123", "+447700900123"), ("+44 20 7946 0958", "+442079460958"),
                                            ("Sam@Example.com", "sam@example.com")])
def test_valid_contact_details(value, expected, dispatcher):
    assert slots_of(_validate("contact_details", value, dispatcher))["contact_details"] == expected


@pytest.mark.parametrize("value", ["12", "call me maybe", "a@b", "<script>x</script>", "'; DROP TABLE escalations; --",
                                   "😀😀😀", "1" * 40])
def test_bad_contact_details_are_asked_again(value, dispatcher):
    assert slots_of(_validate("contact_details", value, dispatcher))["contact_details"] is None
    assert "phone number or an email" in texts(dispatcher)[0]


@pytest.mark.parametrize("value", ["stop", "Cancel", "no", "No thanks."])
def test_stop_ends_the_form(value, dispatcher):
    slots = slots_of(_validate("contact_name", value, dispatcher))
    assert slots["requested_slot"] is None and slots["contact_cancelled"] is True and slots["contact_name"] is None


@pytest.mark.parametrize("text", ["", "a" * 10_000, "😀" * 500, "<b>hi</b><script>alert(1)</script>",
                                  "'; DROP TABLE escalations; --", "Ich habe einen Knall gehört"])
def test_odd_messages_do_not_crash_escalate(text, dispatcher):
    slots = escalate(dispatcher, text=text, red_flags={"level": "same_day", "flags": ["classifier"], "negated": []})
    record = escalations.get_escalation(int(slots["escalation_id"]))
    assert record.message == text[:10_000]
    assert len(dispatcher.messages) == 2


def test_escalations_table_survives_sql_injection_text(dispatcher):
    escalate(dispatcher, text="'; DROP TABLE escalations; --",
             red_flags={"level": "same_day", "flags": ["classifier"], "negated": []})
    escalate(CollectingDispatcherFactory(), text="second")
    from bot.db import clinic_session
    from bot.escalations import Escalation

    with clinic_session() as session:
        assert session.query(Escalation).count() == 2


def test_reminder_text_is_one_short_line():
    for level in ("emergency", "same_day", "soon"):
        line = reminder_text(level)
        assert "\n" not in line and len(line) < 160
