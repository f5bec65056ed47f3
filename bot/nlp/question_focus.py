"""Rasa NLU component: in a long story, the question decides the topic (issue 13, "long messages").

The intent classifier reads the whole message, so in a long story the background (race history, shoes, what a
doctor said) can outweigh the question at its end. For a long English message this component splits the text
into sentences, keeps the question sentences (ending with "?" or opening like a question, the words in
question_focus.yml), and classifies each, alone and with the sentence before it, with a small sentence model of
the topic intents trained with the rest of the pipeline, the last question first. A confident question's topic
becomes the intent, and the whole-message topic is ranked second, so the answer action offers it as "also asked".
Messages that are not topic questions (affirm/deny, a sure greeting) and short or non-English messages are left
exactly as classified.

A classifier red_flag is never replaced here: the question is only stored as the candidate the red-flag detector
(bot/nlp/red_flag_detector.py, which reads every sentence itself) takes if it vetoes that reading.
"""
from __future__ import annotations

import logging
import pickle
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.topics import INTENT_NAME

logger = logging.getLogger(__name__)

SETTINGS_FILE = Path(__file__).with_name("question_focus.yml")
FOCUS_PROPERTY = "question_focus"  # parse data: the question sentence that decided, its topic and confidence
MODEL_FILE = "sentence_model.pkl"
RED_FLAG_INTENT = "red_flag"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+|(?<=\?)(?=[^\s?!.])")
_WORD = re.compile(r"[a-z']+")
_SCOPE_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]*)?")


@dataclass(frozen=True)
class FocusSettings:
    min_chars: int
    min_sentences: int
    min_confidence: float
    ascii_share: float
    replaceable: frozenset[str]
    replace_other_min: float
    replace_below: float
    openers: tuple[tuple[str, ...], ...]
    skip: frozenset[str]
    in_scope_words: frozenset[str]
    rescued: frozenset[str]
    short_only: frozenset[str]
    short_max_words: int


@lru_cache(maxsize=2)
def focus_settings(path: Path = SETTINGS_FILE) -> FocusSettings:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        return FocusSettings(int(data["min_chars"]), int(data["min_sentences"]), float(data["min_confidence"]),
                             float(data["ascii_share"]), frozenset(data["replaceable"]),
                             float(data["replace_other_min"]), float(data["replace_below"]),
                             tuple(tuple(str(o).lower().split()) for o in data["openers"]),
                             frozenset(str(w).lower() for w in data.get("skip") or ()),
                             frozenset(str(w).lower() for w in data["in_scope_words"]),
                             frozenset(data["rescued"]), frozenset(data["short_only"]),
                             int(data["short_max_words"]))
    except KeyError as missing:
        raise ValueError(f"{path}: missing key {missing}; see the comments in that file") from None


def sentences(text: str) -> list[str]:
    """The sentences of a message, in order (a line break or . ! ? ends one; "??" stays with its sentence)."""
    return [part.strip() for part in _SENTENCE_END.split(text or "") if part and any(c.isalnum() for c in part)]


def is_question(sentence: str, settings: FocusSettings) -> bool:
    if sentence.rstrip().endswith("?"):
        return True
    words = tuple(_WORD.findall(sentence.lower()))
    while words and words[0] in settings.skip:
        words = words[1:]
    return any(words[:len(opener)] == opener for opener in settings.openers)


def names_the_tendon(text: str, settings: FocusSettings) -> bool:
    """The message is about the Achilles: one of in_scope_words as a word (or, in Chinese, anywhere)."""
    low = (text or "").lower()
    words = _SCOPE_WORD.findall(low)
    if set(words) & settings.in_scope_words:
        return True
    joined = f" {' '.join(words)} "
    return any((not word.isascii() and word in low) or (" " in word and f" {word} " in joined)
               for word in settings.in_scope_words)


def is_english_enough(text: str, share: float) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isascii() for c in letters) / len(letters) >= share


def questions_last_first(text: str, settings: FocusSettings) -> list[str]:
    """The question sentences of a long English message, the last first; [] when the message is not one."""
    return [question for question, _ in questions_in_context(text, settings)]


def questions_in_context(text: str, settings: FocusSettings) -> list[tuple[str, str | None]]:
    """(question, the sentence before it or None) for each question of a long English message, the last first.
    A question often names its subject only in the sentence before ("... foam heel wedges in my trainers. Do they
    actually do anything?"), so both readings are scored."""
    if len(text or "") < settings.min_chars or not is_english_enough(text, settings.ascii_share):
        return []
    parts = sentences(text)
    if len(parts) < settings.min_sentences:
        return []
    return [(parts[i], parts[i - 1] if i else None) for i in reversed(range(len(parts)))
            if is_question(parts[i], settings)]


def _sentence_pipeline():  # noqa: ANN202 - a scikit-learn Pipeline
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    features = FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)),
    ])
    return make_pipeline(features, LogisticRegression(max_iter=1000, C=10.0, random_state=42))


def _note(message: Message, sentence: str | None, topic: str, sure: float, whole: str | None, applied: bool,
          **extra: Any) -> None:
    """Record in the parse data which question (None: the whole message) decided, or would decide, the topic."""
    message.set(FOCUS_PROPERTY, {"sentence": sentence, "intent": topic, "confidence": round(sure, 3),
                                 "whole_message_intent": whole, "applied": applied, **extra}, add_to_output=True)


def _set_reading(message: Message, first: dict, ranking: list[dict]) -> None:
    message.set(INTENT, first, add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class QuestionFocus(GraphComponent):
    """Lets the question of a long story decide its topic (see the module docstring)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 model: Any = None) -> None:
        self._config = config
        self._storage = model_storage
        self._resource = resource
        self._model = model
        self._settings = focus_settings()

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> QuestionFocus:
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> QuestionFocus:
        try:
            with model_storage.read_from(resource) as directory:
                model = pickle.loads((directory / MODEL_FILE).read_bytes())  # noqa: S301 - our own model file
        except (ValueError, FileNotFoundError):
            logger.warning("question focus: no sentence model in this model; long messages are read whole")
            model = None
        return cls(config, model_storage, resource, model)

    def train(self, training_data: TrainingData) -> Resource:
        texts, labels = [], []
        for example in training_data.intent_examples:
            intent = example.get(INTENT)
            if intent and INTENT_NAME.match(intent) and example.get(TEXT):
                texts.append(example.get(TEXT))
                labels.append(intent)
        if len(set(labels)) >= 2:
            self._model = _sentence_pipeline().fit(texts, labels)
            with self._storage.write_to(self._resource) as directory:
                (directory / MODEL_FILE).write_bytes(pickle.dumps(self._model))
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is not None:
            for message in messages:
                self._focus(message)
        return messages

    def best_question(self, text: str) -> tuple[str, str, float] | None:
        """(sentence, topic intent, confidence) of the last question the sentence model is sure of, read alone
        or with the sentence before it, whichever reading is surer."""
        for question, before in questions_in_context(text, self._settings):
            readings = [question] + ([f"{before} {question}"] if before else [])
            probabilities = self._model.predict_proba(readings)
            row, best = divmod(int(probabilities.argmax()), probabilities.shape[1])
            if probabilities[row, best] >= self._settings.min_confidence:
                return question, str(self._model.classes_[best]), float(probabilities[row, best])
        return None

    def _replaces(self, whole: str | None, confidence: float, topic: str, sure: float) -> bool:
        """Whether a question sure `sure` of `topic` replaces the whole-message reading (whole, confidence).
        The same topic, more surely: a long story dilutes the whole-message confidence below the fallback, while
        its question alone is clear ("... Do those gel heel raises actually help?"); the question's confidence
        then stands."""
        if topic == whole:
            return sure > confidence
        if whole is None or INTENT_NAME.match(whole):
            return True
        if whole not in self._settings.replaceable:
            return False
        return sure >= self._settings.replace_other_min or confidence < self._settings.replace_below

    def _drop_short_only(self, message: Message) -> None:
        """A long message is not a short follow-up: its `short_only` readings leave the ranking, and the others
        are renormalised (their probabilities given that the message is not one of those)."""
        ranking = message.get(INTENT_RANKING_KEY) or []
        if (len(_WORD.findall((message.get(TEXT) or "").lower())) <= self._settings.short_max_words
                or not any(r.get(INTENT_NAME_KEY) in self._settings.short_only for r in ranking)):
            return
        kept = [dict(r) for r in ranking if r.get(INTENT_NAME_KEY) not in self._settings.short_only]
        total = sum(float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0) for r in kept)
        if not kept or total <= 0:
            return
        for entry in kept:
            entry[PREDICTED_CONFIDENCE_KEY] = float(entry.get(PREDICTED_CONFIDENCE_KEY) or 0.0) / total
        name = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        if name in self._settings.short_only or name == kept[0].get(INTENT_NAME_KEY):
            _set_reading(message, dict(kept[0]), kept)
        else:
            message.set(INTENT_RANKING_KEY, kept, add_to_output=True)

    def _focus(self, message: Message) -> None:
        self._drop_short_only(message)
        intent = message.get(INTENT) or {}
        whole, confidence = intent.get(INTENT_NAME_KEY), float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        if whole == RED_FLAG_INTENT:
            self._offer_if_not_red_flag(message)
            return
        whole_is_topic = whole is None or bool(INTENT_NAME.match(whole))
        if not whole_is_topic and whole not in self._settings.replaceable:
            return  # yes/no, asking for a person, feedback: never replaced
        found = self.best_question(message.get(TEXT) or "")
        if found is None or not self._replaces(whole, confidence, found[1], found[2]):
            self._rescue_in_scope(message, whole, confidence)
            return
        sentence, topic, sure = found
        _note(message, sentence, topic, sure, whole, applied=True)
        first = {"name": topic, "confidence": sure}
        # the story's own topic is offered second, well below the question so the fallback sees no tie
        second = ({"name": whole, "confidence": min(confidence, sure / 2)}
                  if whole and whole_is_topic and whole != topic else None)
        rest = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") not in {topic, whole}]
        _set_reading(message, first, [first] + ([second] if second else []) + rest)

    def _rescue_in_scope(self, message: Message, whole: str | None, confidence: float) -> None:
        """A message about the Achilles is never out of scope: when the whole-message reading is `rescued` (out of
        scope) and the text names the tendon, the sentence model reads the whole message for its topic. A sure
        topic is answered; an unsure one goes to the fallback (FallbackClassifier, below its threshold), which
        retrieves a grounded passage or says honestly that the notes do not cover it."""
        text = message.get(TEXT) or ""
        if whole not in self._settings.rescued or not names_the_tendon(text, self._settings):
            return
        probabilities = self._model.predict_proba([text])[0]
        best = int(probabilities.argmax())
        topic, sure = str(self._model.classes_[best]), float(probabilities[best])
        _note(message, None, topic, sure, whole, applied=True, rescued=True)
        first = {"name": topic, "confidence": sure if sure >= self._settings.min_confidence else 0.0}
        rest = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") not in {topic, whole}]
        _set_reading(message, first, [first] + rest + [{"name": whole, "confidence": 0.0}])

    def _offer_if_not_red_flag(self, message: Message) -> None:
        """The classifier read a red flag: never replaced here. The red-flag detector may veto that reading (only
        negated mentions, a story with no report); the question is then the candidate it takes instead of the
        next-ranked intent, decided as if the whole message had been read as that next intent (a next-ranked topic
        gives way only to a question at least replace_other_min sure)."""
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != RED_FLAG_INTENT]
        runner_up = ranking[0] if ranking else {}
        found = self.best_question(message.get(TEXT) or "")
        if found is None:
            return
        sentence, topic, sure = found
        runner_up_name = runner_up.get("name")
        if runner_up_name and INTENT_NAME.match(runner_up_name) and sure < self._settings.replace_other_min:
            return  # the classifier's own next topic stands unless the question is very sure
        if self._replaces(runner_up_name, float(runner_up.get("confidence") or 0.0), topic, sure):
            _note(message, sentence, topic, sure, RED_FLAG_INTENT, applied=False)
