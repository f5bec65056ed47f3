"""The pattern language of red_flags.yml, compiled into one spaCy Matcher, and spelling correction towards it.

A pattern is a line of space-separated tokens: `word` (any form with the same lemma), `=word` (exactly this
form), `a|b` (either), `@group` (any word of a vocabulary group), `#NUM` (a number, digits or words), `tok?`
(optional) and `*N` (up to N other tokens, never across the end of a sentence or a "but"). docs/triage.md
describes it for authors; tests/triage/test_patterns.py checks it."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process
from spacy.language import Language
from spacy.matcher import Matcher

from bot.triage.english_words import EnglishWords
from bot.triage.flags import RED_FLAGS_FILE, FlagFile


@dataclass(frozen=True)
class PatternInfo:
    kind: str                      # "flag", "signal", "trap" or "non_report"
    entry_id: str                  # flag/signal id, or the trap pattern
    wildcard: tuple[bool, ...]     # per pattern token: a `*N` wildcard (not content)
    unless: frozenset[str] = frozenset()


class CompiledPatterns:
    """Every flag, signal, trap and non-report pattern of a flag file in one Matcher (key -> PatternInfo)."""

    def __init__(self, flag_file: FlagFile, nlp: Language, words: EnglishWords) -> None:
        self.file = flag_file
        self.nlp = nlp
        self.lemmatizer = nlp.get_pipe("lemmatizer") if "lemmatizer" in nlp.pipe_names else None
        self.matcher = Matcher(nlp.vocab)
        self.patterns: dict[str, PatternInfo] = {}
        self.fuzzy_vocab: set[str] = set()   # the words misspellings are corrected towards
        self._wildcard_stops = sorted(words.wildcard_stops)
        self._number_regex = r"^(\d+([.,]\d+)?(-\d+)?\+?|" + "|".join(sorted(words.number_words)) + ")$"
        for entry in flag_file.flags + flag_file.signals:
            kind = "signal" if entry.level is None else "flag"
            for number, source in enumerate(entry.patterns):
                self._add(f"{kind}:{entry.id}:{number}", source, PatternInfo(kind, entry.id, ()), fuzzy=True)
        for number, trap in enumerate(flag_file.traps):
            self._add(f"trap:{number}", trap.pattern, PatternInfo("trap", trap.pattern, (), trap.unless), False)
        for number, pattern in enumerate(flag_file.non_reports):
            self._add(f"non_report:{number}", pattern, PatternInfo("non_report", pattern, ()), False)

    def lemma(self, word: str) -> str:
        if not self.lemmatizer:
            return word
        token = self.nlp.make_doc(word)
        if len(token) != 1:
            return word
        return self.lemmatizer.lookup_lemmatize(token[0])[0]

    def info(self, match_id: int) -> PatternInfo:
        return self.patterns[self.nlp.vocab.strings[match_id]]

    def _token(self, spec: str, where: str) -> tuple[list[dict], list[bool], set[str]]:
        if re.fullmatch(r"\*\d+", spec):
            count = int(spec[1:])
            wild = {"LOWER": {"NOT_IN": self._wildcard_stops}, "IS_SPACE": False, "OP": "?"}
            return [dict(wild) for _ in range(count)], [True] * count, set()
        optional = spec.endswith("?") and len(spec) > 1
        spec = spec[:-1] if optional else spec
        exact: set[str] = set()
        lemmas: set[str] = set()
        words: set[str] = set()
        number = False
        for alt in spec.split("|"):
            if not alt:
                raise ValueError(f"{RED_FLAGS_FILE}: empty alternative in {where!r}")
            if alt == "#NUM":
                number = True
            elif alt.startswith("@"):
                group = alt[1:]
                if group not in self.file.vocab:
                    raise ValueError(f"{RED_FLAGS_FILE}: unknown vocab group @{group} in {where!r}")
                for word in self.file.vocab[group]:
                    words.add(word)
                    lemmas.update({word, self.lemma(word)})
            elif alt.startswith("="):
                exact.add(alt[1:].lower())
            else:
                word = alt.lower()
                words.add(word)
                lemmas.update({word, self.lemma(word)})
        if number and (exact or lemmas):
            raise ValueError(f"{RED_FLAGS_FILE}: #NUM cannot share a token with words in {where!r}")
        if number:
            token: dict = {"LOWER": {"REGEX": self._number_regex}}
        elif exact and not lemmas:
            token = {"LOWER": {"IN": sorted(exact)}}
        else:
            lemmas.update(exact | {self.lemma(w) for w in exact})
            token = {"LEMMA": {"IN": sorted(lemmas)}}
        if optional:
            token["OP"] = "?"
        return [token], [False], words

    def _add(self, key: str, source: str, info: PatternInfo, fuzzy: bool) -> None:
        pattern: list[dict] = []
        wildcard: list[bool] = []
        for spec in source.split():
            tokens, wild, words = self._token(spec, source)
            pattern += tokens
            wildcard += wild
            if fuzzy:
                self.fuzzy_vocab.update(w for w in words if len(w) >= 4 and w.isalpha())
        if not pattern:
            raise ValueError(f"{RED_FLAGS_FILE}: empty pattern {source!r}")
        self.matcher.add(key, [pattern])
        self.patterns[key] = PatternInfo(info.kind, info.entry_id, tuple(wildcard), info.unless)


class Speller:
    """Corrects a token that is not an English word to the nearest word of the flag patterns (RapidFuzz), so
    "swolen", "snaped", "achilies", "levoquin" need no pattern of their own. One cache per engine."""

    def __init__(self, patterns: CompiledPatterns) -> None:
        self.vocab = patterns.fuzzy_vocab
        self._sorted_vocab = sorted(self.vocab)
        lemmatizer = patterns.lemmatizer
        self._lemma_table = lemmatizer.lookups.get_table("lemma_lookup") if lemmatizer else None
        self._lexicon_values = set(self._lemma_table.values()) if self._lemma_table is not None else set()
        # an lru_cache on the method would be shared by all engines and keep them alive
        self.correct = lru_cache(maxsize=20_000)(self._correct)

    def is_known_word(self, word: str) -> bool:
        if word in self.vocab:
            return True
        return self._lemma_table is not None and (word in self._lemma_table or word in self._lexicon_values)

    def _correct(self, word: str) -> str:
        if len(word) < 4 or not word.isalpha() or self.is_known_word(word):
            return word
        cutoff = 80 if len(word) >= 6 else 85
        best = process.extractOne(word, self._sorted_vocab, scorer=fuzz.ratio, score_cutoff=cutoff)
        if best is None:
            return word
        candidate, score, _ = best
        if candidate[0] != word[0] and score < 90:
            return word
        return candidate
