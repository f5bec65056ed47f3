"""Sentence grounding: does a card sentence say only what the quotes it links to say?

Three mechanical checks, on lemmas from the project's own spaCy pipeline (build/spacy_pipeline):
  1. every quantity (number, dose, duration: "45 seconds", "3 sets", "1–2 weeks") and every bare number
     of the sentence is in a linked quote;
  2. every named exercise or device (the pipeline's exercise/treatment entities plus
     knowledge/grounding_terms.yml) of the sentence is named in a linked quote;
  3. the share of the sentence's content words found in its quotes (its coverage) is at least the
     threshold calibrated by `python -m knowledge.sentence_calibrate` (knowledge/sentence_threshold.yml).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from knowledge.errors import KnowledgeError
from knowledge.grounding import normalise

PACKAGE_DIR = Path(__file__).resolve().parent
TERMS_FILE = PACKAGE_DIR / "grounding_terms.yml"
THRESHOLD_FILE = PACKAGE_DIR / "sentence_threshold.yml"
ENTITY_LABELS = ("exercise", "treatment")  # the pipeline's labels for named exercises and devices

_UNITS = {
    "second": "second", "seconds": "second", "sec": "second", "secs": "second",
    "minute": "minute", "minutes": "minute", "min": "minute", "mins": "minute",
    "hour": "hour", "hours": "hour", "day": "day", "days": "day", "week": "week", "weeks": "week",
    "month": "month", "months": "month", "year": "year", "years": "year",
    "set": "set", "sets": "set", "rep": "rep", "reps": "rep", "repetitions": "rep",
    "x": "time", "times": "time", "time": "time",
    "cm": "cm", "mm": "mm", "km": "km", "mile": "mile", "miles": "mile", "mg": "mg", "k": "k",
}
_NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9", "ten": "10", "fifteen": "15", "twenty": "20",
}
_NUM = r"\d+(?:\.\d+)?"
_QUANTITY = re.compile(
    rf"\b(?P<a>{_NUM}|{'|'.join(_NUMBER_WORDS)})"
    rf"(?:\s*(?:-|to|or)\s*(?P<b>{_NUM}|{'|'.join(_NUMBER_WORDS)}))?"
    rf"\s*-?\s*(?P<unit>{'|'.join(sorted(_UNITS, key=len, reverse=True))})\b"
)
_FREQUENCY = re.compile(r"\b(?:twice|once or twice|once (?:a|per|every) (?:day|week))\b")
_DIGITS = re.compile(_NUM)
_QUANTITY_WORDS = frozenset(_UNITS) | frozenset(_NUMBER_WORDS) | {"once", "twice"}
_SENTENCE_BREAK = re.compile(r"[.!?][\"')\u201d]?\s+[A-Z]")


@dataclass(frozen=True)
class SentenceCheck:
    """What one sentence states that its quotes do not."""

    coverage: float  # share of the sentence's content words found in its quotes (1.0 when it has none)
    uncovered: tuple[str, ...]  # those content words (lemmas) not found
    missing_quantities: tuple[str, ...]  # "45 second", "2 time", or a bare number
    missing_terms: tuple[str, ...]  # named exercises or devices not in the quotes


@dataclass(frozen=True)
class Terms:
    """knowledge/grounding_terms.yml: extra named exercises/devices, lemma equivalents, framing words."""

    named: dict[str, tuple[str, ...]]  # term id -> phrases
    equivalents: dict[str, str]  # lemma -> the first lemma of its group
    framing: frozenset[str]  # lemmas that frame rather than state ("source", "clinic", "differ")
    function_words: frozenset[str]


def load_terms(path: Path = TERMS_FILE) -> Terms:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeError(f"cannot read the grounding terms ({exc})", path) from exc
    named = {str(term): tuple(str(p) for p in phrases) for term, phrases in (data.get("named") or {}).items()}
    equivalents: dict[str, str] = {}
    for group in data.get("equivalents") or []:
        words = [str(w).lower() for w in group]
        for word in words:
            equivalents[word] = words[0]
    return Terms(
        named,
        equivalents,
        frozenset(str(w).lower() for w in data.get("framing") or []),
        frozenset(str(w).lower() for w in data.get("function_words") or []),
    )


def load_threshold(path: Path = THRESHOLD_FILE) -> float:
    """The calibrated coverage threshold (knowledge/sentence_threshold.yml)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return float(data["threshold"])
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise KnowledgeError(
            f"no usable coverage threshold ({exc}); run `python -m knowledge.sentence_calibrate`", path
        ) from exc


def split_sentences(text: str) -> list[str]:
    """Where a text breaks into sentences (a full stop, ? or ! followed by a capital)."""
    text = normalise(text)
    parts, start = [], 0
    for match in _SENTENCE_BREAK.finditer(text):
        parts.append(text[start : match.end() - 1].strip())
        start = match.end() - 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _plain(text: str) -> str:
    return normalise(text).lower()


def quantities(text: str) -> set[str]:
    """'3 sets of 15, once or twice a day, for 45 seconds' -> {'3 set', '1 time', '2 time', '45 second', '15'}.

    A number with a unit becomes "<number> <unit>" (both ends of a range); a number without one stays bare;
    number words count only with a unit ("one mile"), since "one source" is not a quantity.
    """
    plain = _plain(text)
    found: set[str] = set()
    spans: list[tuple[int, int]] = []
    for match in _QUANTITY.finditer(plain):
        unit = _UNITS[match.group("unit")]
        for end in ("a", "b"):
            value = match.group(end)
            if value:
                found.add(f"{_NUMBER_WORDS.get(value, value)} {unit}")
        spans.append(match.span())
    for match in _FREQUENCY.finditer(plain):
        said = match.group(0)
        if "once" in said:
            found.add("1 time")
        if "twice" in said:
            found.add("2 time")
    for match in _DIGITS.finditer(plain):
        if not any(start <= match.start() < end for start, end in spans):
            found.add(match.group(0))
    return found


def _covers(stated: str, quoted: set[str]) -> bool:
    """A quantity is covered by the same quantity, or a bare number by any quantity with that number."""
    if stated in quoted:
        return True
    return " " not in stated and any(q.split(" ")[0] == stated for q in quoted)


class SentenceGrounder:
    """Checks sentences against quotes with the project's spaCy pipeline (tokens, lemmas, entities)."""

    def __init__(self, nlp: Language, terms: Terms) -> None:
        self.nlp = nlp
        self.terms = terms
        self.matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        for term, phrases in terms.named.items():
            self.matcher.add(term, [nlp(phrase.lower()) for phrase in phrases])
        self._docs: dict[str, Doc] = {}

    def doc(self, text: str) -> Doc:
        plain = _plain(text)
        if plain not in self._docs:
            self._docs[plain] = self.nlp(plain)
        return self._docs[plain]

    def lemma(self, token) -> str:  # noqa: ANN001 - a spaCy Token
        lemma = (token.lemma_ or token.text).lower()
        return self.terms.equivalents.get(lemma, lemma)

    def content_lemmas(self, text: str) -> list[str]:
        """The words that carry the statement: not punctuation, numbers, function or framing words."""
        lemmas = []
        for token in self.doc(text):
            if not any(c.isalpha() for c in token.text) or token.like_num or token.text in _QUANTITY_WORDS:
                continue  # numbers and their units are checked as quantities
            lemma = self.lemma(token)
            if token.text in self.terms.function_words or lemma in self.terms.function_words:
                continue
            if lemma in self.terms.framing:
                continue
            lemmas.append(lemma)
        return lemmas

    def named(self, text: str) -> set[str]:
        """Named exercises and devices: entity ids of the pipeline's ruler, then grounding_terms.yml's."""
        doc = self.doc(text)
        found = {ent.ent_id_ or ent.lemma_ for ent in doc.ents if ent.label_ in ENTITY_LABELS}
        found.update(self.nlp.vocab.strings[match_id] for match_id, _, _ in self.matcher(doc))
        return found

    def check(self, sentence: str, quotes: Sequence[str]) -> SentenceCheck:
        quoted_lemmas: set[str] = set()
        quoted_quantities: set[str] = set()
        quoted_terms: set[str] = set()
        for quote in quotes:
            quoted_lemmas.update(self.lemma(t) for t in self.doc(quote))
            quoted_quantities |= quantities(quote)
            quoted_terms |= self.named(quote)
        content = self.content_lemmas(sentence)
        uncovered = [lemma for lemma in content if lemma not in quoted_lemmas]
        coverage = 1.0 if not content else 1 - len(uncovered) / len(content)
        missing_q = sorted(q for q in quantities(sentence) if not _covers(q, quoted_quantities))
        missing_t = sorted(self.named(sentence) - quoted_terms)
        return SentenceCheck(round(coverage, 3), tuple(dict.fromkeys(uncovered)), tuple(missing_q),
                             tuple(missing_t))


def load_nlp() -> Language:
    """The project's spaCy pipeline: build/spacy_pipeline when built, else built in memory by bot/nlp."""
    import spacy

    from bot.paths import SPACY_PIPELINE_DIR

    if (SPACY_PIPELINE_DIR / "meta.json").is_file():
        return spacy.load(SPACY_PIPELINE_DIR)
    from bot.nlp.build_pipeline import build_pipeline

    return build_pipeline()


@lru_cache(maxsize=1)
def default_grounder() -> SentenceGrounder:
    return SentenceGrounder(load_nlp(), load_terms())


def pipeline_inputs() -> Iterable[Path]:
    """What a sentence check depends on besides the cards: the pipeline and this module's data."""
    from bot.paths import SPACY_PIPELINE_DIR

    return [SPACY_PIPELINE_DIR, TERMS_FILE, THRESHOLD_FILE, Path(__file__)]
