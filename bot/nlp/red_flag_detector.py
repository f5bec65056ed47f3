"""Rasa NLU component: deterministic red-flag detection on every message, overriding the intent classifier."""
from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlp.question_focus import FOCUS_PROPERTY
from bot.triage.detect import Detection
from bot.triage.flags import CLASSIFIER_FLAG
from bot.triage.multilingual import with_other_languages
from bot.triage.snapshot import TriageData, checkout_data, read_snapshot, write_snapshot

logger = logging.getLogger(__name__)

RED_FLAGS_PROPERTY = "red_flags"
FALLBACK_INTENT = "nlu_fallback"
CHECK_ENTITY = "red_flag_check"  # domain/red_flag_check.yml: ask the key signs instead of escalating


def _top_classifier_intent(message: Message) -> tuple[str | None, float]:
    """The classifier's best intent and its confidence, looking past nlu_fallback (FallbackClassifier puts it
    first)."""
    for entry in message.get(INTENT_RANKING_KEY) or []:
        name = entry.get(INTENT_NAME_KEY)
        if name and name != FALLBACK_INTENT:
            return name, float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
    intent = message.get(INTENT) or {}
    name = intent.get(INTENT_NAME_KEY)
    return (name, float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)) if name != FALLBACK_INTENT else (None, 0.0)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class RedFlagDetector(GraphComponent):
    """Sets intent red_flag (confidence 1.0), red_flag entities and the `red_flags` property.

    Either signal escalates: a pattern match (bot/triage/red_flags.yml), or the classifier's top intent red_flag
    (flag "classifier", level same_day). One exception, the veto: when the classifier says red_flag but the
    detector found no flag and judged what it did find not to be a report - negated ("I didn't hear a pop"),
    asked about, someone else's, in the past, or an idiom ("hit the wall") - the message is not escalated.
    The classifier alone still escalates when the detector found nothing at all.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intent": "red_flag",            # the intent set when a red flag is found
            "classifier_level": "same_day",  # the level when only the classifier saw a red flag
            # "escalate" mode only: an unsure classifier alone (red_flag below this confidence, nothing found by
            # the detector) escalates at `soon` (the booking advice, the offer of the team, the answer); a sure one
            # at classifier_level. In cross-validation 14 of the classifier's 25 false red_flags were below 0.7.
            "classifier_sure_confidence": 0.7,
            "classifier_unsure_level": "soon",
            # "ask": the classifier alone, sure or not, never sends advice by itself; the message gets the entity
            # red_flag_check and the bot shows the key signs with the same-day advice at once and asks yes/no
            # (data/rules/red_flag_check.yml): yes escalates at same_day, no answers the question. Unsure readings
            # are asked too: a booking ("soon") for a real red flag would be under-triage, and a booking for a plain
            # question hid its answer (4 of the field set's answer messages, reports/field/REPORT.md).
            # "escalate": the old behaviour, advice at once. On the field set 2 of 132 messages that needed at most
            # a booking got same-day advice this way (reports/field/BASELINE.md).
            "classifier_mode": "ask",
            "veto_on_negation": True,        # negated-only mentions cancel the classifier's red_flag
            "veto_on_non_report": True,      # so do questions, third person, history, idioms (Detection.non_report)
        }

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage | None = None,
                 resource: Resource | None = None, data: TriageData | None = None) -> None:
        self.config = {**self.get_default_config(), **(config or {})}
        self._model_storage = model_storage
        self._resource = resource
        # the detector compiled from the model's own triage snapshot (bot/triage/snapshot.py); the checkout's
        # only while training, in tests, or for a model trained before snapshots were stored
        self.data = data or checkout_data()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RedFlagDetector:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Nothing to learn: training stores the flag file, lexicons and spaCy pipeline inside the model."""
        with self._model_storage.write_to(self._resource) as directory:
            write_snapshot(directory)
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> RedFlagDetector:
        """The detector as the model was trained: compiled from the snapshot stored in the model."""
        try:
            with model_storage.read_from(resource) as directory:
                data = read_snapshot(directory)
        except (ValueError, FileNotFoundError) as error:
            logger.warning("red-flag detector: %s; using the checkout's bot/triage files (retrain with "
                           "`python -m bot build` to store them in the model)", error)
            data = None
        return cls(config, model_storage, resource, data)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training data passes through unchanged: the detector has nothing to learn."""
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._process_one(message)
        return messages

    # ------------------------------------------------------------------
    def _process_one(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        if text.startswith("/"):  # a button payload such as /affirm: the intent is given, nothing to detect
            return
        try:
            detection = self.data.engine.detect(text, doc=message.get(SPACY_DOCS[TEXT]))
        except Exception:  # noqa: BLE001 - detection must never break NLU; the classifier still decides
            logger.exception("red-flag detection failed on a message; falling back to the intent classifier")
            detection = Detection()
        # Chinese and Spanish lexicons (bot/triage/multilingual.py), chosen by the LanguageDetector's result
        detection = with_other_languages(detection, text, message.get("language"), message.get("language_detection"),
                                         lexicons=self.data.lexicons)
        top_intent, top_confidence = _top_classifier_intent(message)
        classifier_red_flag = top_intent == self.config["intent"]
        result = detection.to_dict()
        if detection.flags:
            result["source"] = "detector+classifier" if classifier_red_flag else "detector"
            self._escalate(message, detection, result)
        elif classifier_red_flag and self.config["veto_on_negation"] and detection.negated:
            result["source"] = "veto"
            self._veto(message)
            logger.info("classifier red_flag vetoed: only negated mentions %s", detection.negated_flags)
        elif classifier_red_flag and self.config["veto_on_non_report"] and detection.non_report:
            result["source"] = "veto"
            self._veto(message)
            logger.info("classifier red_flag vetoed: no report, only %s",
                        sorted({s.flag for s in detection.informational + detection.dismissed}))
        elif classifier_red_flag and self.config["classifier_mode"] == "ask":
            result.update(level=None, flags=[], check=True, source="classifier_check")
            self._ask(message)
        elif classifier_red_flag:
            sure = top_confidence >= self.config["classifier_sure_confidence"]
            level = self.config["classifier_level"] if sure else self.config["classifier_unsure_level"]
            result.update(level=level, flags=[CLASSIFIER_FLAG], source="classifier")
            self._escalate(message, detection, result)
        else:
            result["source"] = None
        message.set(RED_FLAGS_PROPERTY, result, add_to_output=True)

    def _escalate(self, message: Message, detection: Detection, result: dict) -> None:
        name = self.config["intent"]
        intent = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name]
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [dict(intent)] + ranking, add_to_output=True)
        text = message.get(TEXT) or ""
        entities = list(message.get(ENTITIES) or [])
        for span in detection.spans:
            start, end = span.start, span.end
            if text[start:end].lower() != span.text:
                found = text.lower().find(span.text) if span.text else -1
                start, end = (found, found + len(span.text)) if found >= 0 else (0, len(text))
            entities.append({
                "entity": "red_flag", "value": span.flag, "start": start, "end": end,
                "confidence_entity": 1.0, "extractor": type(self).__name__,
            })
        if not detection.spans and result.get("flags") == [CLASSIFIER_FLAG]:
            entities.append({"entity": "red_flag", "value": CLASSIFIER_FLAG, "start": 0, "end": len(text),
                             "confidence_entity": 1.0, "extractor": type(self).__name__})
        # The level and the most severe flag, whole-message, for the slots triage_level/triage_flag: the rules
        # and responses of domain/red_flags.yml send the advice from Rasa itself (no action server needed).
        flags = result.get("flags") or [CLASSIFIER_FLAG]
        for entity, value in (("triage_level", result.get("level") or "same_day"), ("triage_flag", flags[0])):
            entities.append({"entity": entity, "value": value, "start": 0, "end": len(text),
                             "confidence_entity": 1.0, "extractor": type(self).__name__})
        message.set(ENTITIES, entities, add_to_output=True)

    def _ask(self, message: Message) -> None:
        """Classifier alone, sure: intent red_flag with the entity red_flag_check (ask the key signs first)."""
        name = self.config["intent"]
        intent = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name]
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [dict(intent)] + ranking, add_to_output=True)
        text = message.get(TEXT) or ""
        entities = list(message.get(ENTITIES) or [])
        entities.append({"entity": CHECK_ENTITY, "value": CLASSIFIER_FLAG, "start": 0, "end": len(text),
                         "confidence_entity": 1.0, "extractor": type(self).__name__})
        message.set(ENTITIES, entities, add_to_output=True)

    def _veto(self, message: Message) -> None:
        name = self.config["intent"]
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name]
        current = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        focus = message.get(FOCUS_PROPERTY) or {}
        if focus.get("intent") and not focus.get("applied", True):
            # the question of a long story (bot/nlp/question_focus.py) stands in for the vetoed red_flag reading
            intent = {INTENT_NAME_KEY: focus["intent"], PREDICTED_CONFIDENCE_KEY: focus["confidence"]}
            ranking = [dict(intent)] + [r for r in ranking if r.get(INTENT_NAME_KEY) != focus["intent"]]
            message.set(INTENT, intent, add_to_output=True)
            message.set(FOCUS_PROPERTY, {**focus, "applied": True}, add_to_output=True)
        elif current != FALLBACK_INTENT:
            best = next((r for r in ranking if r.get(INTENT_NAME_KEY) != FALLBACK_INTENT), None)
            intent = dict(best) if best else {INTENT_NAME_KEY: FALLBACK_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
            message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
