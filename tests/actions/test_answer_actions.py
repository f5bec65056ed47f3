"""Answer, follow-up, tell-me-more, fallback and session-start actions, run on trackers built with from_dict."""
from __future__ import annotations

import pytest
from rasa_sdk.events import SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import ActionAnswerFollowup, ActionAnswerTopic, ActionTellMore
from actions.fallback import ActionFallbackRetrieve, ActionOfferHuman
from actions.session import ActionSessionStart
from bot.clinic_profile import clinic_profile
from bot.topics import TOPIC_INTENTS


def only_text(dispatcher) -> str:
    return "\n".join(message.get("text") or "" for message in dispatcher.messages)


def test_topic_answer_names_its_sources_and_sets_the_last_topic(dispatcher, tracker_for, domain):
    events = ActionAnswerTopic().run(dispatcher, tracker_for("do heel lifts help", "ask_heel_lifts"), domain)
    assert events == [SlotSet("last_topic", "heel_lifts")]
    [message] = dispatcher.messages
    assert "Sources: Tempo Physical Therapy & Performance (Atlanta)" in message["text"]
    assert "sources differ" in message["text"]
    assert message["buttons"][0] == {"title": "Tell me more", "payload": "/tell_me_more"}
    assert {"/ask_exercises", "/ask_footwear"} & {button["payload"] for button in message["buttons"]}
    assert message["grounding"]["topic"] == "heel_lifts"
    assert len(message["text"].split("Sources:")[0].split()) <= 190  # answer + differences note


def test_known_tendinopathy_type_changes_the_stretching_advice(dispatcher, tracker_for, domain):
    ActionAnswerTopic().run(dispatcher, tracker_for("stretch?", "ask_stretching"), domain)
    plain = only_text(dispatcher)
    insertional = type(dispatcher)()
    ActionAnswerTopic().run(insertional, tracker_for("stretch?", "ask_stretching",
                                                     slots={"tendinopathy_type": "insertional"}), domain)
    assert only_text(insertional) != plain
    assert "insertional" in only_text(insertional).lower()


def test_follow_up_resolves_against_the_last_topic(dispatcher, tracker_for, domain):
    tracker = tracker_for("and if it's chronic?", "followup",
                          entities=[{"entity": "severity", "value": "chronic"}],
                          slots={"last_topic": "recovery_time"})
    ActionAnswerFollowup().run(dispatcher, tracker, domain)
    assert "3–6 months" in only_text(dispatcher)


def test_follow_up_without_context_asks_what_about(dispatcher, tracker_for, domain):
    ActionAnswerFollowup().run(dispatcher, tracker_for("what about insertional?", "followup"), domain)
    assert "Sources:" not in only_text(dispatcher)
    assert "heel lifts" in only_text(dispatcher)


def test_tell_me_more_gives_the_detail_with_the_quotes_of_both_sides(dispatcher, tracker_for, domain):
    ActionTellMore().run(dispatcher, tracker_for("tell me more", "tell_me_more",
                                                 slots={"last_topic": "keep_running"}), domain)
    text = only_text(dispatcher)
    assert "Sources:" in text and "“" in text  # verbatim words of each side
    assert all(button["payload"] != "/tell_me_more" for button in dispatcher.messages[0]["buttons"])


def test_what_else_helps_after_an_answer_gives_the_next_card_not_the_same_detail(dispatcher, tracker_for, domain):
    events = ActionTellMore().run(dispatcher, tracker_for("what else helps with the pain?", "tell_me_more",
                                                          slots={"last_topic": "medication"}), domain)
    assert events == [SlotSet("last_topic", "rest_ice")]   # the medication card's first follow-up topic
    assert dispatcher.messages[0]["grounding"]["topic"] == "rest_ice"
    assert "Sources:" in only_text(dispatcher)


def test_open_escalation_is_repeated_before_any_answer(dispatcher, tracker_for, domain):
    tracker = tracker_for("exercises?", "ask_exercises",
                          slots={"escalation_open": True, "escalation_level": "same_day"})
    ActionAnswerTopic().run(dispatcher, tracker, domain)
    first_line = only_text(dispatcher).splitlines()[0].lower()
    assert "today" in first_line or "urgent" in first_line


def test_uncovered_question_says_so_and_offers_the_team(dispatcher, tracker_for, domain):
    ActionFallbackRetrieve().run(dispatcher, tracker_for("what's a good banana bread recipe", "nlu_fallback"),
                                 domain)
    text = only_text(dispatcher)
    assert "don't cover" in text and clinic_profile().phone in text
    assert "Sources:" not in text
    assert dispatcher.messages[0]["buttons"] == [{"title": "Ask the clinic's team", "payload": "/request_human"}]


def test_long_tail_question_gets_a_quoted_passage_with_its_source(dispatcher, tracker_for, domain):
    ActionFallbackRetrieve().run(
        dispatcher, tracker_for("can running on uneven trails cause achilles pain", "nlu_fallback"), domain)
    assert "Sources:" in only_text(dispatcher)
    assert "uneven" in only_text(dispatcher).lower()


def test_empty_message_gets_a_clear_reply(dispatcher, tracker_for, domain):
    ActionFallbackRetrieve().run(dispatcher, tracker_for("   ", None), domain)
    assert "didn't receive any text" in only_text(dispatcher)


def test_offer_human_uses_the_clinic_profile(dispatcher, tracker_for, domain):
    ActionOfferHuman().run(dispatcher, tracker_for("can i talk to someone", "request_human"), domain)
    profile = clinic_profile()
    assert profile.phone in only_text(dispatcher) and profile.booking_url in only_text(dispatcher)


def test_session_start_shows_the_disclaimer_and_keeps_an_open_escalation(dispatcher, tracker_for, domain):
    tracker = tracker_for("hi", "greet", slots={"escalation_open": True, "escalation_level": "same_day"})
    events = ActionSessionStart().run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["response"] == "utter_disclaimer"
    assert events[0] == SessionStarted()
    assert SlotSet("escalation_open", True) in events
    assert "not a diagnosis" in domain["responses"]["utter_disclaimer"][0]["text"]


def test_a_second_question_in_the_same_message_gets_a_button(dispatcher, tracker_for, domain):
    tracker = tracker_for("do heel lifts help and how long will it take to recover?", "ask_heel_lifts",
                          extra_parse_data={"intent_ranking": [{"name": "ask_heel_lifts", "confidence": 0.55},
                                                               {"name": "ask_recovery_time", "confidence": 0.38},
                                                               {"name": "ask_footwear", "confidence": 0.03}]})
    ActionAnswerTopic().run(dispatcher, tracker, domain)
    first = dispatcher.messages[0]["buttons"][0]
    assert first["payload"] == "/ask_recovery_time" and first["title"].startswith("Also: ")


def test_a_single_question_gets_no_also_button(dispatcher, tracker_for, domain):
    ActionAnswerTopic().run(dispatcher, tracker_for("do heel lifts help?", "ask_heel_lifts"), domain)
    assert not any(b["title"].startswith("Also") for b in dispatcher.messages[0]["buttons"])


def test_comparing_both_types_answers_the_types_card_even_after_another_topic(dispatcher, tracker_for, domain):
    tracker = tracker_for("insertional vs midportion, what's the difference?", "followup",
                          entities=[{"entity": "tendinopathy_type", "value": "insertional"},
                                    {"entity": "tendinopathy_type", "value": "midportion"}],
                          slots={"last_topic": "heel_lifts"})
    events = ActionAnswerFollowup().run(dispatcher, tracker, domain)
    assert "2–6 cm above the heel" in only_text(dispatcher)
    assert events == [SlotSet("last_topic", "midportion_vs_insertional")]


def test_a_type_named_out_of_the_blue_answers_the_types_card(dispatcher, tracker_for, domain):
    tracker = tracker_for("what about insertional?", "followup",
                          entities=[{"entity": "tendinopathy_type", "value": "insertional"}])
    ActionAnswerFollowup().run(dispatcher, tracker, domain)
    assert "heel bone" in only_text(dispatcher) and "Sources:" in only_text(dispatcher)


@pytest.mark.parametrize("intent", list(TOPIC_INTENTS))
def test_every_rendered_answer_fits_a_phone_screen(intent, tracker_for, domain):
    dispatcher = CollectingDispatcher()
    ActionAnswerTopic().run(dispatcher, tracker_for("?", intent), domain)
    [message] = dispatcher.messages
    body, sources = message["text"].split("Sources:")
    assert len(body.split()) <= 130, f"{intent}: {len(body.split())} words before the sources line"
    assert sources.strip() and message["buttons"]


def test_clinic_policy_is_rendered_as_the_clinics_advice_after_the_document_sources(dispatcher, tracker_for, domain):
    ActionAnswerTopic().run(dispatcher, tracker_for("what does a rupture feel like", "ask_rupture"), domain)
    [message] = dispatcher.messages
    documents, advice = message["text"].split("The clinic's advice: ")
    assert "Sources: Keystone Physical Therapy" in documents  # the documents' part ends with their sources
    assert "urgent medical care today" in advice and "Sources:" not in advice
    assert "urgent" not in documents.split("Sources:")[0]  # no document is shown saying it
    policy = [s for s in message["grounding"]["sentences"] if s["clinic_policy"]]
    assert policy and all(s["sources"] == [] for s in policy)
    assert message["grounding"]["clinic_advice"] == [s["text"] for s in policy]


@pytest.mark.parametrize("intent", list(TOPIC_INTENTS))
def test_the_sources_line_names_exactly_the_documents_of_the_sentences_shown(intent, tracker_for, domain):
    dispatcher = CollectingDispatcher()
    ActionAnswerTopic().run(dispatcher, tracker_for("?", intent), domain)
    [message] = dispatcher.messages
    shown = [s for s in message["grounding"]["sentences"] if not s["clinic_policy"]]
    expected = list(dict.fromkeys(source for s in shown for source in s["sources"]))
    assert [s["id"] for s in message["grounding"]["sources"]] == expected
    for sentence in shown:
        assert sentence["text"] in message["text"]
