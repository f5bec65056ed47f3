"""Rasa NLU component: the language of every message (lingua + script), stored in the parse data and the log."""
from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import hanzidentifier
import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.triage.multilingual_lexicon import HAN

logger = logging.getLogger(__name__)

LANGUAGES_FILE = Path(__file__).resolve().parent.parent / "triage" / "lexicon" / "languages.yml"
LANGUAGE_PROPERTY = "language"                 # parse data: "en", "es", "zh-Hant", "zh-Hans", "fr", ..., "und"
DETECTION_PROPERTY = "language_detection"      # parse data: the evidence (confidence, candidates, script counts)
LANGUAGE_ENTITY = "language"                   # set only when confident and supported; fills the `language` slot
UNDETERMINED = "und"
# Not words of any language: e-mail addresses, web addresses, numbers (a phone number typed into the form).
_NOT_WORDS = re.compile(r"\S+@\S+|\w+://\S+|www\.\S+|\S*\d\S*")


@dataclass(frozen=True)
class LanguageSettings:
    supported: tuple[str, ...]
    lingua: tuple[str, ...]
    min_confidence: float
    min_margin: float
    min_letters: int
    spanish_marks: str
    spanish_mark_confidence: float
    han_share: float
    cantonese_markers: frozenset[str]
    simplified_markers: frozenset[str]
    chinese_default: str


@lru_cache(maxsize=2)
def language_settings(path: Path = LANGUAGES_FILE) -> LanguageSettings:
    """bot/triage/lexicon/languages.yml, checked."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        settings = LanguageSettings(
            supported=tuple(str(x) for x in data["supported"]),
            lingua=tuple(str(x) for x in data["lingua"]),
            min_confidence=float(data["min_confidence"]),
            min_margin=float(data.get("min_margin", 0.0)),
            min_letters=int(data["min_letters"]),
            spanish_marks=str(data.get("spanish_marks") or ""),
            spanish_mark_confidence=float(data.get("spanish_mark_confidence", 0.2)),
            han_share=float(data["han_share"]),
            cantonese_markers=frozenset(str(data.get("cantonese_markers") or "")),
            simplified_markers=frozenset(str(data.get("simplified_markers") or "")),
            chinese_default=str(data["chinese_default"]),
        )
    except KeyError as missing:
        raise ValueError(f"{path}: add {missing} (see the comments in the file)") from None
    if settings.chinese_default not in ("zh-Hant", "zh-Hans"):
        raise ValueError(f"{path}: chinese_default must be zh-Hant or zh-Hans")
    return settings


@dataclass
class LanguageResult:
    """What the detector decided and why."""
    language: str = UNDETERMINED
    confidence: float = 0.0
    supported: bool = False
    method: str = "none"                         # script | lingua | none
    candidates: list[tuple[str, float]] = field(default_factory=list)
    script: dict[str, int] = field(default_factory=dict)  # traditional-only / simplified-only / cantonese counts

    def to_dict(self) -> dict:
        data = asdict(self)
        data["candidates"] = [[code, round(value, 3)] for code, value in self.candidates]
        data["confidence"] = round(self.confidence, 3)
        return data


def _is_han(char: str) -> bool:
    return HAN.fullmatch(char) is not None


def _is_kana(char: str) -> bool:
    return "\u3040" <= char <= "\u30ff"


def _is_hangul(char: str) -> bool:
    return "\uac00" <= char <= "\ud7af" or "\u1100" <= char <= "\u11ff"


def chinese_script(text: str, settings: LanguageSettings | None = None) -> tuple[str, dict[str, int]]:
    """zh-Hant or zh-Hans: characters found in one script only are counted (Cantonese forms count as
    Traditional, Hong Kong usage); no such character at all gives the clinic's default script."""
    settings = settings or language_settings()
    traditional = simplified = cantonese = 0
    for char in text:
        if not _is_han(char):
            continue
        if char in settings.cantonese_markers:
            cantonese += 1
        if char in settings.simplified_markers:
            simplified += 1
            continue
        is_trad, is_simp = hanzidentifier.is_traditional(char), hanzidentifier.is_simplified(char)
        if is_trad and not is_simp:
            traditional += 1
        elif is_simp and not is_trad:
            simplified += 1
    counts = {"traditional_only": traditional, "simplified_only": simplified, "cantonese": cantonese}
    if traditional + cantonese > simplified:
        return "zh-Hant", counts
    if simplified > traditional + cantonese:
        return "zh-Hans", counts
    return settings.chinese_default, counts


class LanguageIdentifier:
    """Detects one message's language: script first (Han, kana, hangul), lingua for Latin-script text."""

    def __init__(self, settings: LanguageSettings | None = None) -> None:
        from lingua import Language, LanguageDetectorBuilder

        self.settings = settings or language_settings()
        try:
            languages = [getattr(Language, name) for name in self.settings.lingua]
        except AttributeError as unknown:
            raise ValueError(f"{LANGUAGES_FILE}: lingua has no language {unknown.name!r}") from None
        # Models load once, when the Rasa model loads (they ship inside the lingua wheel: no download).
        self.detector = LanguageDetectorBuilder.from_languages(*languages).with_preloaded_language_models().build()

    def _code(self, language) -> str:
        code = language.iso_code_639_1.name.lower()
        return "zh-Hant" if code == "zh" else code

    def detect(self, text: str) -> LanguageResult:
        text = _NOT_WORDS.sub(" ", unicodedata.normalize("NFKC", text or ""))
        letters = [c for c in text if c.isalpha()]
        if not letters:
            return LanguageResult()
        han = sum(1 for c in letters if _is_han(c))
        kana = sum(1 for c in letters if _is_kana(c))
        hangul = sum(1 for c in letters if _is_hangul(c))
        if kana:
            return LanguageResult("ja", 1.0, False, "script")
        if hangul and hangul >= han:
            return LanguageResult("ko", 1.0, False, "script")
        if han and han / len(letters) >= self.settings.han_share:
            script, counts = chinese_script(text, self.settings)
            return LanguageResult(script, 1.0, script in self.settings.supported, "script", script=counts)
        values = self.detector.compute_language_confidence_values(text)
        candidates = [(self._code(v.language), float(v.value)) for v in values[:3]]
        best, confidence = candidates[0] if candidates else (UNDETERMINED, 0.0)
        margin = confidence - (candidates[1][1] if len(candidates) > 1 else 0.0)
        spanish = dict(candidates).get("es", 0.0)
        if (any(mark in text.lower() for mark in self.settings.spanish_marks)
                and spanish >= self.settings.spanish_mark_confidence):
            best, confidence = "es", spanish
        elif (len(letters) < self.settings.min_letters or confidence < self.settings.min_confidence
              or margin < self.settings.min_margin):
            return LanguageResult(UNDETERMINED, confidence, False, "lingua", candidates)
        return LanguageResult(best, confidence, best in self.settings.supported, "lingua", candidates)


@lru_cache(maxsize=1)
def language_identifier() -> LanguageIdentifier:
    """One shared identifier per process (its models take a few seconds and ~150 MB to load)."""
    return LanguageIdentifier()


def detect_language(text: str) -> LanguageResult:
    """The language of one message (see LanguageIdentifier)."""
    return language_identifier().detect(text)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LanguageDetector(GraphComponent):
    """Sets `language` (a code) and `language_detection` (the evidence) on every message, before the red-flag
    detector reads them. A confident, supported language also becomes a `language` entity, which fills the
    `language` slot (domain/lang_core.yml) that picks the reply language; "ok" or a phone number does not
    change the conversation's language."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"entity": LANGUAGE_ENTITY}

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = {**self.get_default_config(), **(config or {})}

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> LanguageDetector:
        language_identifier()  # load the models with the Rasa model, not on the first message
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training data passes through unchanged (its language comes from its folder, data/nlu/<lang>/)."""
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._process_one(message)
        return messages

    def _process_one(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        if text.startswith("/"):  # a button payload: no words to read
            result = LanguageResult()
        else:
            try:
                result = detect_language(text)
            except Exception:  # noqa: BLE001 - a detection failure must not lose the message; English is used
                logger.exception("language detection failed; the message is treated as undetermined")
                result = LanguageResult()
        message.set(LANGUAGE_PROPERTY, result.language, add_to_output=True)
        message.set(DETECTION_PROPERTY, result.to_dict(), add_to_output=True)
        if result.supported:  # the thresholds of languages.yml already made "und" of anything unsure
            entities = list(message.get(ENTITIES) or [])
            entities.append({"entity": self.config["entity"], "value": result.language, "start": 0,
                             "end": len(text), "confidence_entity": round(result.confidence, 3),
                             "extractor": type(self).__name__})
            message.set(ENTITIES, entities, add_to_output=True)
