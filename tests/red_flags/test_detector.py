"""Table-driven red-flag tests: every suite case and every flag-file example, through detect_red_flags and
through the RedFlagDetector NLU component. The bar is 100% recall with the right level and zero false alarms."""
from __future__ import annotations

import time

import pytest
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.training_data.message import Message

from bot.triage.detect import detect_red_flags
from bot.triage.flags import LEVELS, load_flag_file
from tests.red_flags.suite import load_suite

SUITE = load_suite()
FLAG_FILE = load_flag_file()
EXAMPLES = [(f.id, f.level, text, True) for f in FLAG_FILE.flags for text in f.positive] + [
    (f.id, f.level, text, False) for f in FLAG_FILE.flags for text in f.negative
]


def _levels_through_detector(turns):
    previous: set[str] = set()
    levels, detections = [], []
    for turn in turns:
        detection = detect_red_flags(turn, previous=previous)
        previous |= set(detection.flags) | set(detection.signals)
        levels.append(detection.level)
        detections.append(detection)
    return levels, detections


def test_suite_is_big_enough_and_covers_every_flag():
    positives = [c for c in SUITE if c.positive]
    negatives = [c for c in SUITE if not c.positive]
    assert len(positives) >= 80 and len(negatives) >= 50
    found = set()
    for case in positives:
        _, detections = _levels_through_detector(case.turns)
        found |= set(detections[-1].flags)
    assert {f.id for f in FLAG_FILE.flags} <= found, "every flag needs at least one suite case"
    assert {c.level for c in positives} == set(LEVELS)


@pytest.mark.parametrize("case", SUITE, ids=[c.id for c in SUITE])
def test_suite_case_through_detect_red_flags(case):
    levels, detections = _levels_through_detector(case.turns)
    assert levels == list(case.levels), f"{case.id}: {detections[-1].to_dict()}"
    assert set(case.flags) <= set(detections[-1].flags)


@pytest.mark.parametrize("flag_id,level,text,positive", EXAMPLES, ids=[f"{e[0]}-{i}" for i, e in enumerate(EXAMPLES)])
def test_flag_file_examples(flag_id, level, text, positive):
    detection = detect_red_flags(text)
    if positive:
        assert flag_id in detection.flags and detection.level == level, detection.to_dict()
    else:
        assert flag_id not in detection.flags, detection.to_dict()


def _message(text: str, nlp, intent: str = "ask_keep_running", confidence: float = 0.9) -> Message:
    message = Message(data={"text": text})
    message.set(SPACY_DOCS["text"], nlp(text.lower()))
    message.set("intent", {"name": intent, "confidence": confidence}, add_to_output=True)
    message.set("intent_ranking", [{"name": intent, "confidence": confidence},
                                   {"name": "ask_symptoms", "confidence": 1 - confidence}], add_to_output=True)
    return message


@pytest.mark.parametrize("case", [c for c in SUITE if len(c.turns) == 1],
                         ids=[c.id for c in SUITE if len(c.turns) == 1])
def test_suite_case_through_component(case, detector, spacy_nlp):
    message = detector.process([_message(case.text, spacy_nlp)])[0]
    red_flags = message.as_dict(only_output_properties=True)["red_flags"]
    assert red_flags["level"] == case.level, red_flags
    if case.positive:
        assert message.get("intent") == {"name": "red_flag", "confidence": 1.0}
        assert message.get("intent_ranking")[0]["name"] == "red_flag"
        assert {e["value"] for e in message.get("entities") if e["entity"] == "red_flag"} == set(red_flags["flags"])
    else:
        assert message.get("intent")["name"] == "ask_keep_running"


def test_red_flag_overrides_the_question(detector, spacy_nlp):
    message = detector.process([_message("I heard a pop, can I keep running?", spacy_nlp)])[0]
    assert message.get("intent")["name"] == "red_flag"
    assert message.get("red_flags")["flags"] == ["rupture_pop_snap"]


@pytest.fixture(scope="module")
def escalating_detector():
    """The classifier-only behaviour before "ask instead of guess" (classifier_mode: escalate)."""
    from bot.nlp.red_flag_detector import RedFlagDetector

    return RedFlagDetector({**RedFlagDetector.get_default_config(), "classifier_mode": "escalate"})


def test_a_sure_classifier_alone_asks_the_key_signs_by_default(detector, spacy_nlp):
    message = detector.process([_message("it's all gone wrong with my leg today", spacy_nlp, "red_flag", 0.8)])[0]
    assert message.get("intent") == {"name": "red_flag", "confidence": 1.0}
    assert message.get("red_flags")["level"] is None and message.get("red_flags")["check"] is True
    assert {"entity": "red_flag_check", "value": "classifier"}.items() <= message.get("entities")[-1].items()


def test_classifier_alone_escalates_same_day(escalating_detector, spacy_nlp):
    detector = escalating_detector
    message = detector.process([_message("it's all gone wrong with my leg today", spacy_nlp, "red_flag", 0.8)])[0]
    assert message.get("intent") == {"name": "red_flag", "confidence": 1.0}
    assert message.get("red_flags")["level"] == "same_day"
    assert message.get("red_flags")["flags"] == ["classifier"]


def test_classifier_red_flag_behind_nlu_fallback_is_asked_about(detector, spacy_nlp):
    message = Message(data={"text": "something weird happened to my leg"})
    message.set("intent", {"name": "nlu_fallback", "confidence": 0.55})
    message.set("intent_ranking", [{"name": "nlu_fallback", "confidence": 0.55},
                                   {"name": "red_flag", "confidence": 0.41},
                                   {"name": "ask_symptoms", "confidence": 0.39}])
    message = detector.process([message])[0]
    assert message.get("intent")["name"] == "red_flag"
    # an unsure classifier alone: the key signs with the same-day advice, and the yes/no question
    assert message.get("red_flags")["level"] is None and message.get("red_flags")["check"] is True
    assert {"entity": "red_flag_check", "value": "classifier"}.items() <= message.get("entities")[-1].items()


def test_unsure_classifier_alone_escalates_at_soon_and_a_sure_one_same_day(escalating_detector, spacy_nlp):
    detector = escalating_detector
    unsure = detector.process([_message("my leg feels really wrong", spacy_nlp, "red_flag", 0.65)])[0]
    sure = detector.process([_message("my leg feels really wrong", spacy_nlp, "red_flag", 0.7)])[0]
    assert unsure.get("intent")["name"] == sure.get("intent")["name"] == "red_flag"
    assert unsure.get("red_flags")["level"] == "soon"
    assert sure.get("red_flags")["level"] == "same_day"


def test_negation_vetoes_the_classifier(detector, spacy_nlp):
    message = detector.process([_message("I didn't hear a pop, is it still a rupture?", spacy_nlp, "red_flag", 0.7)])[0]
    assert message.get("intent")["name"] == "ask_symptoms"
    assert message.get("red_flags")["level"] is None
    assert message.get("red_flags")["source"] == "veto"
    assert "rupture_pop_snap" in message.get("red_flags")["negated"]


def test_payload_messages_are_left_alone(detector):
    message = Message(data={"text": "/affirm"})
    message.set("intent", {"name": "affirm", "confidence": 1.0})
    assert detector.process([message])[0].get("intent")["name"] == "affirm"


def test_component_with_real_spacy_nlp_and_tokenizer(detector, tmp_path):
    """The component after Rasa's own SpacyNLP + SpacyTokenizer, as in config.yml."""
    from rasa.engine.graph import ExecutionContext
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
    from rasa.nlu.utils.spacy_utils import SpacyNLP

    from bot.paths import SPACY_PIPELINE_DIR

    storage, context = LocalModelStorage(tmp_path), ExecutionContext(graph_schema=None, model_id="t")
    spacy_nlp = SpacyNLP.create({**SpacyNLP.get_default_config(), "model": str(SPACY_PIPELINE_DIR)}, storage,
                                Resource("nlp"), context)
    tokenizer = SpacyTokenizer.create(SpacyTokenizer.get_default_config(), storage, Resource("tok"), context)
    model = spacy_nlp.provide()
    messages = [Message(data={"text": "HERD A POP in my achilies"}), Message(data={"text": "pop in to the clinic"})]
    messages = tokenizer.process(spacy_nlp.process(messages, model))
    messages = detector.process(messages)
    assert messages[0].get("intent")["name"] == "red_flag"
    assert messages[1].get("red_flags")["level"] is None


@pytest.mark.parametrize("text", ["", " ", "\n\n", "a" * 10_000, "pop " * 2_500, "😀" * 3_000,
                                  "<div><script>x</script>heard a pop</div>", "'; DROP TABLE escalations; --",
                                  "Ich habe einen Knall in der Achillessehne gehört", "早上跟腱很痛", None, 12345])
def test_odd_input_does_not_crash(text):
    detection = detect_red_flags(text)
    assert detection.level in (None, *LEVELS)


def test_html_is_stripped_before_matching():
    assert detect_red_flags("<p>I <b>heard a pop</b></p>").flags == ["rupture_pop_snap"]


def test_long_message_is_fast_enough():
    text = ("I ran a long way today and my legs are tired but fine. " * 190) + "Then I felt something snap in my heel."
    assert len(text) > 10_000
    start = time.perf_counter()
    detection = detect_red_flags(text)
    assert time.perf_counter() - start < 2.0
    assert detection.level == "same_day"


def test_chest_pain_with_a_calf_sign_from_an_earlier_turn_is_the_composite_emergency():
    first = detect_red_flags("my calf is swollen and sore since the flight")
    second = detect_red_flags("now my chest feels tight", previous=set(first.flags) | set(first.signals))
    assert second.level == "emergency"
    assert second.flags[0] == "chest_symptoms_with_calf"


def test_chest_pain_alone_is_an_emergency():
    detection = detect_red_flags("I have chest pain")
    assert detection.level == "emergency" and detection.flags == ["chest_symptoms"]
