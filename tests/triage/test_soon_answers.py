"""Level soon does not hide the answer: booking advice AND the topic the message asked about (action tests
with Tracker.from_dict and CollectingDispatcher). same_day and emergency still override the question."""
from __future__ import annotations

import asyncio

from rasa_sdk import Tracker

from actions.escalation import ActionEscalate, asked_topic
from bot import escalations
from bot.triage.detect import detect_red_flags
from tests.triage.conftest import user_event

NIGGLY = "achilles has been niggly for a month, what strengthening exercises should I be doing at home?"


def tracker(text: str, ranking: list[tuple[str, float]], red_flags: dict | None = None,
            slots: dict | None = None) -> Tracker:
    """The latest message as the NLU pipeline leaves it: red_flag first (set by RedFlagDetector), then the
    classifier's own ranking without its red_flag entry."""
    if red_flags is None:
        red_flags = detect_red_flags(text).to_dict()
    event = user_event(text, "red_flag", red_flags)
    event["parse_data"]["intent_ranking"] = [{"name": "red_flag", "confidence": 1.0}] + [
        {"name": name, "confidence": confidence} for name, confidence in ranking]
    return Tracker.from_dict({
        "sender_id": "runner-soon", "slots": slots or {}, "latest_message": event["parse_data"],
        "events": [event], "paused": False, "latest_input_channel": "rest", "active_loop": {},
        "latest_action_name": "action_listen",
    })


def run(dispatcher, tracker_: Tracker) -> tuple[list[dict], dict]:
    events = asyncio.run(ActionEscalate().run(dispatcher, tracker_, {}))
    return events, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def test_soon_gives_booking_advice_and_answers_the_topic(dispatcher):
    assert detect_red_flags(NIGGLY).level == "soon"
    events, slots = run(dispatcher, tracker(NIGGLY, [("ask_exercises", 0.82), ("ask_keep_running", 0.1)]))
    advice, answer, offer = dispatcher.messages
    assert "book an assessment" in advice["text"] and advice["triage"]["level"] == "soon"
    assert answer["grounding"]["topic"] == "exercises" and "Sources:" in answer["text"]
    assert "3 sets of 15" in answer["text"]          # a key fact of knowledge/cards/exercises.yml
    assert [b["payload"] for b in offer["buttons"]] == ["/affirm", "/deny"]   # the offer stays last
    assert slots["last_topic"] == "exercises" and slots["escalation_level"] == "soon"
    record = escalations.get_escalation(int(slots["escalation_id"]))
    assert record.level == "soon" and record.flags == "persistent_pain"


def test_soon_looks_past_nlu_fallback_in_the_ranking(dispatcher):
    run(dispatcher, tracker(NIGGLY, [("nlu_fallback", 0.6), ("ask_exercises", 0.55)]))
    assert dispatcher.messages[1]["grounding"]["topic"] == "exercises"


def test_soon_without_a_confident_topic_gives_only_the_advice(dispatcher):
    _, slots = run(dispatcher, tracker("my heel has been sore for three weeks", [("ask_exercises", 0.3),
                                                                                  ("ask_symptoms", 0.25)]))
    assert len(dispatcher.messages) == 2 and "grounding" not in dispatcher.messages[0]
    assert "book an assessment" in dispatcher.messages[0]["text"] and "last_topic" not in slots


def test_soon_with_a_non_topic_intent_gives_only_the_advice(dispatcher):
    run(dispatcher, tracker("my heel has been sore for three weeks", [("greet", 0.9)]))
    assert len(dispatcher.messages) == 2


def test_same_day_overrides_the_question(dispatcher):
    text = "I heard a pop in my achilles, what exercises should I do?"
    _, slots = run(dispatcher, tracker(text, [("ask_exercises", 0.9)]))
    assert slots["escalation_level"] == "same_day" and "last_topic" not in slots
    assert len(dispatcher.messages) == 2 and "today" in dispatcher.messages[0]["text"]
    assert all("grounding" not in m for m in dispatcher.messages)


def test_emergency_overrides_the_question(dispatcher):
    text = "my calf is swollen since the flight and now I have chest pain, should I stretch?"
    _, slots = run(dispatcher, tracker(text, [("ask_stretching", 0.9)]))
    assert slots["escalation_level"] == "emergency" and "last_topic" not in slots
    assert all("grounding" not in m for m in dispatcher.messages)


def test_soon_after_an_open_same_day_escalation_keeps_the_urgent_advice(dispatcher):
    _, first_slots = run(dispatcher, tracker("I heard a pop in my achilles", [("ask_rupture", 0.2)]))
    later = dispatcher.__class__()
    _, slots = run(later, tracker(NIGGLY, [("ask_exercises", 0.9)], slots=first_slots))
    assert slots["escalation_level"] == "same_day" and "last_topic" not in slots


def test_asked_topic_reads_the_ranking():
    ranking = [{"name": "red_flag", "confidence": 1.0}, {"name": "ask_heel_lifts", "confidence": 0.4}]
    assert asked_topic({"intent_ranking": ranking}) == "heel_lifts"
    assert asked_topic({"intent_ranking": ranking[:1]}) is None
    assert asked_topic({}) is None


def test_asked_topic_prefers_the_question_of_a_long_story():
    latest = {"intent_ranking": [{"name": "red_flag", "confidence": 1.0},
                                 {"name": "ask_heel_lifts", "confidence": 0.08}],
              "question_focus": {"sentence": "What am I doing wrong?", "intent": "ask_rehab_mistakes",
                                 "confidence": 0.93, "whole_message_intent": "red_flag", "applied": False}}
    assert asked_topic(latest) == "rehab_mistakes"
    latest["question_focus"]["confidence"] = 0.3      # an unsure question: the ranking decides (none here)
    assert asked_topic(latest) is None


def test_the_action_server_reads_the_property_the_nlu_component_writes():
    from actions import escalation
    from bot.nlp.question_focus import FOCUS_PROPERTY

    assert escalation.FOCUS_PROPERTY == FOCUS_PROPERTY
