"""The one synonym table (bot/nlp/vocabulary.yml): the ways runners name a tendinopathy type or a severity.

It feeds three places that used to keep their own lists: the spaCy EntityRuler (`entity_patterns`), Rasa's
entity synonyms (`rasa_synonyms`, written into build/rasa/data/ by bot/topic_wiring.py) and the choice of a card's
variant from a slot value (`canonical`, used by knowledge/answers.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

VOCABULARY_FILE = Path(__file__).with_name("vocabulary.yml")


class VocabularyError(ValueError):
    """The synonym table is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Value:
    """One canonical value of an entity and the words that mean it."""

    entity: str
    name: str
    phrases: tuple[str, ...]
    cues: tuple[str, ...]


def _normal(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").replace("_", " ").split())


@lru_cache(maxsize=4)
def load(path: Path = VOCABULARY_FILE) -> dict[str, tuple[Value, ...]]:
    """entity -> its values, in file order (the first value whose cue matches wins)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    table: dict[str, tuple[Value, ...]] = {}
    seen: dict[tuple[str, str], str] = {}
    for entity, values in data.items():
        if not isinstance(values, dict) or not values:
            raise VocabularyError(f"{path}: {entity}: give its values, each with phrases (and cues)")
        entries = []
        for name, spec in values.items():
            unknown = set(spec or {}) - {"phrases", "cues"}
            if not isinstance(spec, dict) or not spec.get("phrases") or unknown:
                raise VocabularyError(f"{path}: {entity}.{name}: needs `phrases` (and optional `cues`)"
                                      + (f"; unknown keys {sorted(unknown)}" if unknown else ""))
            phrases = tuple(str(p).strip().lower() for p in spec["phrases"])
            for phrase in phrases:
                other = seen.setdefault((entity, _normal(phrase)), name)
                if other != name:
                    raise VocabularyError(f"{path}: {entity}: {phrase!r} means both {other!r} and {name!r}")
            entries.append(Value(entity, str(name), phrases, tuple(_normal(c) for c in spec.get("cues") or ())))
        table[str(entity)] = tuple(entries)
    return table


def entity_patterns(path: Path = VOCABULARY_FILE) -> list[dict]:
    """EntityRuler phrase patterns: each phrase labelled with its entity, its id the canonical value."""
    return [{"label": value.entity, "pattern": phrase, "id": value.name}
            for values in load(path).values() for value in values for phrase in value.phrases]


def rasa_synonyms(path: Path = VOCABULARY_FILE) -> list[dict]:
    """Rasa NLU `synonym:` entries: every phrase that is not the canonical value itself maps to it."""
    entries = []
    for values in load(path).values():
        for value in values:
            examples = sorted({p for p in value.phrases if p != value.name})
            if examples:
                entries.append({"synonym": value.name, "examples": "".join(f"- {p}\n" for p in examples)})
    return entries


def canonical(entity: str, text: str | None, path: Path = VOCABULARY_FILE) -> str | None:
    """The canonical value a slot or entity value means: an exact phrase first, then the first value one of
    whose cues appears in it; None when nothing in the table matches ('insertion' -> 'insertional')."""
    if not text:
        return None
    values = load(path)[entity]
    normal = _normal(text)
    for value in values:
        if normal == _normal(value.name) or normal in {_normal(p) for p in value.phrases}:
            return value.name
    for value in values:
        if any(cue in normal for cue in value.cues):
            return value.name
    return None
