"""The classifier's red_flag is vetoed when the detector judged every mention not to be a report (negated, asked
about, someone else's, in the past, an idiom); with no detector evidence at all the classifier still escalates."""
from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.triage.detect import detect_red_flags

VETOED = [
    "I hit the wall at mile 22 and my calves were cramping",      # idiom trap with a red-flag word
    "I snapped a photo of my running shoes, can I send it?",
    "what should I do if I ever hear a pop in my achilles?",      # hypothetical
    "Can ciprofloxacin cause tendon problems?",                  # question about a signal of a composite flag
    "my wife had a pop in her heel years ago and needed surgery",  # someone else, history
    "my achilles is a little puffy after long runs but fine the next day",  # validator: mild, after a run
    "nothing popped, it just started aching on the long run",
    "no pop, no snap, it just gradually got stiff",
    "I can still stand on tiptoe and walk normally",
    "I ran my first marathon three years ago and my achilles was fine",
]
NOT_VETOED = [
    "it's all gone wrong with my leg today",          # nothing found: the classifier alone asks about the signs
    "something weird happened to my foot, it feels floppy",
    "my heel lifts feel odd and I can't move my foot properly",   # a trap without a red-flag word is no evidence
]


def _message(text: str) -> Message:
    message = Message(data={"text": text})
    message.set("intent", {"name": "red_flag", "confidence": 0.8}, add_to_output=True)
    message.set("intent_ranking", [{"name": "red_flag", "confidence": 0.8},
                                   {"name": "ask_symptoms", "confidence": 0.15}], add_to_output=True)
    return message


@pytest.mark.parametrize("text", VETOED)
def test_classifier_red_flag_is_vetoed_without_a_report(detector, text):
    assert detect_red_flags(text).non_report
    message = detector.process([_message(text)])[0]
    assert message.get("intent")["name"] == "ask_symptoms"
    assert message.get("red_flags")["source"] == "veto" and message.get("red_flags")["level"] is None


@pytest.mark.parametrize("text", NOT_VETOED)
def test_classifier_red_flag_without_evidence_asks_about_the_signs(detector, text):
    """Ask instead of guess (docs/triage.md): intent red_flag with the entity red_flag_check, no level yet."""
    message = detector.process([_message(text)])[0]
    assert message.get("intent") == {"name": "red_flag", "confidence": 1.0}
    assert message.get("red_flags")["check"] is True and message.get("red_flags")["level"] is None
    assert [e["entity"] for e in message.get("entities")] == ["red_flag_check"]
    assert message.get("intent_ranking")[1]["name"] == "ask_symptoms"  # the question, answered after "no"


@pytest.mark.parametrize("text", NOT_VETOED)
def test_classifier_red_flag_still_escalates_without_evidence_in_escalate_mode(text):
    from bot.nlp.red_flag_detector import RedFlagDetector

    detector = RedFlagDetector({**RedFlagDetector.get_default_config(), "classifier_mode": "escalate"})
    message = detector.process([_message(text)])[0]
    assert message.get("intent") == {"name": "red_flag", "confidence": 1.0}
    assert message.get("red_flags")["flags"] == ["classifier"] and message.get("red_flags")["level"] == "same_day"


def test_an_unsure_classifier_alone_is_asked_about_the_key_signs(detector):
    message = _message(NOT_VETOED[0])
    message.set("intent_ranking", [{"name": "red_flag", "confidence": 0.55},
                                   {"name": "ask_symptoms", "confidence": 0.4}], add_to_output=True)
    message = detector.process([message])[0]
    assert message.get("intent")["name"] == "red_flag"
    assert message.get("red_flags")["check"] is True and message.get("red_flags")["level"] is None


def test_in_escalate_mode_an_unsure_classifier_alone_still_books():
    from bot.nlp.red_flag_detector import RedFlagDetector

    detector = RedFlagDetector({**RedFlagDetector.get_default_config(), "classifier_mode": "escalate"})
    message = _message(NOT_VETOED[0])
    message.set("intent_ranking", [{"name": "red_flag", "confidence": 0.55},
                                   {"name": "ask_symptoms", "confidence": 0.4}], add_to_output=True)
    message = detector.process([message])[0]
    assert message.get("red_flags")["level"] == "soon" and message.get("red_flags")["flags"] == ["classifier"]


def test_a_positive_flag_is_never_vetoed(detector):
    message = detector.process([_message("my mate said it felt like a kick, and I just heard a pop in my heel")])[0]
    assert message.get("intent")["name"] == "red_flag" and "rupture_pop_snap" in message.get("red_flags")["flags"]
