"""'Talk to a human': the conversation is queued for the team, and the reply matches the opening hours."""
from __future__ import annotations

from datetime import datetime, timezone

from actions.fallback import human_offer_text
from bot.handoff import store

OPEN = datetime(2026, 12, 2, 11, 0, tzinfo=timezone.utc)      # Wednesday 11:00 in London
CLOSED = datetime(2026, 12, 5, 15, 0, tzinfo=timezone.utc)    # Saturday after 13:00


def test_during_opening_hours_the_visitor_is_queued_and_told_a_person_will_join(clinic_db):
    text = human_offer_text("web:abc", now=OPEN)
    assert "asked the team at Riverside Sports Physiotherapy to join this chat" in text
    assert "The clinic is open now, until 19:00." in text
    assert "999" in text  # what to do if it is urgent
    state = store.get("web:abc")
    assert state.state == store.WAITING and state.requested_at is not None
    assert [s.conversation_id for s in store.open_handoffs()] == ["web:abc"]


def test_outside_hours_it_says_when_the_clinic_opens_and_what_to_do_if_urgent(clinic_db):
    text = human_offer_text("telegram:42", now=CLOSED)
    assert text.startswith("The clinic is closed now; it opens at 8:00 on Monday.")
    assert "after the clinic opens" in text and "999" in text and "111" in text
    assert store.get("telegram:42").state == store.WAITING


def test_asking_twice_keeps_the_place_in_the_queue_and_staff_keep_a_taken_conversation(clinic_db):
    first = store.request_person("web:q").requested_at
    assert store.request_person("web:q").requested_at == first
    store.take_over("web:q", "anna", "Anna")
    assert store.request_person("web:q").state == store.STAFF
    assert store.hand_back("web:q").state == store.BOT
    assert store.open_handoffs() == []


def test_a_database_failure_still_gives_the_phone_number(monkeypatch, clinic_db):
    def broken(_conversation_id):
        raise RuntimeError("database is down")

    monkeypatch.setattr(store, "request_person", broken)
    text = human_offer_text("web:x", now=OPEN)
    assert "couldn't pass this chat to the team" in text and "+44 20 7946 0123" in text and "999" in text
