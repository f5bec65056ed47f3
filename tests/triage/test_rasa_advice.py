"""The urgent advice Rasa sends itself (domain/red_flag_advice.yml, generated from advice.yml, red_flags.yml and
clinic.yml): the detector's entities pick the level's response and the flag's variation, through Rasa's own
slot mapping and response selection; action_escalate then adds only what Rasa could not know."""
from __future__ import annotations

import asyncio

import pytest
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.nlu.training_data.message import Message
from rasa_sdk.executor import CollectingDispatcher

from actions.escalation import ActionEscalate
from bot.topic_wiring import rasa_domain
from bot.triage.advice import (
    GENERATED_DOMAIN_FILE,
    advice_text,
    level_advice,
    primary_advice_text,
    render_domain_file,
    response_name,
)
from bot.triage.detect import detect_red_flags
from bot.triage.flags import LEVELS, load_flag_file
from tests.red_flags.suite import load_suite
from tests.triage.conftest import make_tracker

POSITIVE_TURNS = [(case.id, turn, level) for case in load_suite()
                  for turn, level in zip(case.turns, case.levels, strict=True) if level][:60]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return rasa_domain()


@pytest.fixture(scope="module")
def detector():
    from bot.nlp.red_flag_detector import RedFlagDetector

    return RedFlagDetector({**RedFlagDetector.get_default_config(), "classifier_mode": "escalate"})


def rasa_reply(domain: Domain, entities: list[dict]) -> tuple[str, dict]:
    """What Rasa sends for a red_flag message with these entities: the slots its from_entity mappings set,
    the rule's response of the level, the variation its conditions select."""
    slots = {"triage_level": None, "triage_flag": None}
    for entity in entities:
        if entity["entity"] in slots:
            slots[entity["entity"]] = entity["value"]
    name = response_name(slots["triage_level"])
    message = TemplatedNaturalLanguageGenerator(domain.responses).generate_from_slots(name, slots, "rest")
    return message["text"], message["metadata"]["triage"]


def test_the_generated_domain_file_is_current():
    assert GENERATED_DOMAIN_FILE.read_text(encoding="utf-8") == render_domain_file(), \
        "run `python -m bot build` to regenerate domain/red_flag_advice.yml"


def test_every_flag_of_every_level_has_its_own_variation(domain):
    for flag in load_flag_file().flags:
        text, triage = rasa_reply(domain, [{"entity": "triage_level", "value": flag.level},
                                           {"entity": "triage_flag", "value": flag.id}])
        assert text == primary_advice_text(flag.level, flag.id)
        assert text.startswith(flag.reason) and level_advice(flag.level) in text
        assert triage == {"level": flag.level, "flags": [flag.id], "source": "rasa"}
    for level in LEVELS:  # the classifier alone, at each level
        text, triage = rasa_reply(domain, [{"entity": "triage_level", "value": level},
                                           {"entity": "triage_flag", "value": "classifier"}])
        assert level_advice(level) in text and triage["level"] == level


@pytest.mark.parametrize("case_id,turn,level", POSITIVE_TURNS, ids=[f"{c}:{t[:30]}" for c, t, _ in POSITIVE_TURNS])
def test_the_detector_entities_choose_the_right_level_advice(domain, detector, case_id, turn, level):
    message = Message(data={"text": turn})
    detector.process([message])
    text, triage = rasa_reply(domain, message.get("entities") or [])
    detection = message.get("red_flags")
    assert triage["level"] == detection["level"] and level_advice(detection["level"]) in text
    assert triage["flags"] == detection["flags"][:1]


def test_an_unknown_flag_still_gets_its_levels_advice(domain):
    text, triage = rasa_reply(domain, [{"entity": "triage_level", "value": "emergency"},
                                       {"entity": "triage_flag", "value": "a_flag_added_after_training"}])
    assert "call 999 now" in text and triage["level"] == "emergency"


def rasa_advice_event(level: str, flag: str) -> dict:
    """The bot event Rasa's utter_red_flag_<level> leaves in the tracker."""
    return {"event": "bot", "text": primary_advice_text(level, flag),
            "metadata": {"metadata": {"triage": {"level": level, "flags": [flag], "source": "rasa"}},
                         "utter_action": response_name(level)}}


def run_escalate(text: str, earlier: list[dict] | None = None) -> CollectingDispatcher:
    detection = detect_red_flags(text)
    tracker = make_tracker(text=text, earlier=earlier)
    tracker.events.append(rasa_advice_event(detection.level, detection.flags[0]))
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionEscalate().run(dispatcher, tracker, {}))
    return dispatcher


def test_escalate_does_not_repeat_the_advice_rasa_sent():
    dispatcher = run_escalate("I heard a loud pop in my achilles")
    texts = [m["text"] for m in dispatcher.messages]
    assert len(texts) == 1  # only the contact offer (with whether the clinic is open now)
    assert texts[0].startswith(
        "Would you like the clinic's team to contact you? I would ask for your name and a phone number or email.")
    assert "The clinic is" in texts[0]


def test_escalate_adds_the_line_of_a_second_flag():
    text = "I'm taking ciprofloxacin and I heard a pop in my achilles"
    detection = detect_red_flags(text)
    assert detection.flags[0] != "fluoroquinolone_tendon_pain" and "fluoroquinolone_tendon_pain" in detection.flags
    dispatcher = run_escalate(text)
    extra = dispatcher.messages[0]
    assert "ciprofloxacin" in extra["text"] and "stop it" in extra["text"]
    assert extra["text"] not in primary_advice_text(detection.level, detection.flags[0])
    assert extra["triage"]["level"] == "same_day"
    assert set(extra["text"].splitlines()) | set(primary_advice_text("same_day", detection.flags[0]).splitlines()) \
        == set(advice_text("same_day", detection.flags).splitlines())  # together: all of the advice


def test_escalate_adds_what_the_conversation_shows():
    from tests.triage.conftest import user_event

    earlier = [user_event("my calf is red and swollen since the flight", red_flags={
        "level": "same_day", "flags": ["possible_clot_calf"], "negated": [], "signals": ["calf_sign"]})]
    dispatcher = run_escalate("now my chest feels tight", earlier=earlier)
    assert "Tell the call handler about your calf" in dispatcher.messages[0]["text"]
