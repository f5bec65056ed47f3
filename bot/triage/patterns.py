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
from spacy.tokens import Doc

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
        self.anchors = _Anchors(nlp)   # the same patterns, one Matcher each, run only where they can match
        self._subsets: dict[tuple[int, ...], Matcher] = {}   # Matchers of a few patterns (find), oldest first
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
        self.anchors.add(key, pattern)
        self.patterns[key] = PatternInfo(info.kind, info.entry_id, tuple(wildcard), info.unless)

    def find(self, doc: Doc) -> list[tuple[int, int, int, list[int]]]:
        """What `self.matcher(doc, with_alignments=True)` returns, faster: (match_id, start, end, alignment)."""
        if self.lemmatizer is None:
            return self.matcher(doc, with_alignments=True)
        matches = self.anchors.find(doc)
        labels: dict[tuple[int, int], set[str]] = {}
        keys_at: dict[tuple[int, int], set[int]] = {}
        for match_id, start, end, _ in matches:
            info = self.info(match_id)
            labels.setdefault((start, end), set()).add(info.entry_id if info.kind in ("flag", "signal") else info.kind)
            keys_at.setdefault((start, end), set()).add(match_id)
        tied = {key for span, names in labels.items() if len(names) > 1 for key in keys_at[span]}
        if not tied:
            return matches
        # Two mentions with the same span but not the same flag: the detector keeps the first one found, so these
        # come in the one Matcher's order. A Matcher of some of the patterns finds their matches in the same order
        # as the Matcher of all (each pattern's states are kept and branched in order, whatever the others do).
        keys = tuple(sorted(tied, key=self.anchors.order.__getitem__))
        return [m for m in matches if m[0] not in tied] + self._matcher_of(keys)(doc, with_alignments=True)

    def _matcher_of(self, keys: tuple[int, ...]) -> Matcher:
        matcher = self._subsets.get(keys)
        if matcher is None:
            matcher = Matcher(self.nlp.vocab, validate=False)
            for key in keys:
                matcher.add(key, self.matcher.get(key)[1])
            if len(self._subsets) >= 256:
                self._subsets.pop(next(iter(self._subsets)))
            self._subsets[keys] = matcher
        return matcher


class _Anchors:
    """Each pattern in a Matcher of its own, with the token specs it cannot match without (its anchors).

    The one Matcher of every pattern tries every pattern at every token; most of its cost is there. A pattern
    can only match a message in which every non-optional token spec matches some token, and only within its
    length of such a token; so each candidate pattern is run on those windows of the message alone. The result
    is the same: a match depends only on the tokens it spans, and a window is kept only up to where its
    Matcher states have all ended (its pattern's length and one token after the window's last start)."""

    def __init__(self, nlp: Language) -> None:
        self.vocab = nlp.vocab
        self.order: dict[int, int] = {}                          # match id -> order of addition
        self.single: dict[int, tuple[Matcher, int, tuple[int, ...]]] = {}  # id -> (Matcher, length, anchor specs)
        self.spec_ids: dict[tuple, int] = {}
        self.by_lemma: dict[str, list[int]] = {}                 # lemma -> the anchor specs it satisfies
        self.by_lower: dict[str, list[int]] = {}
        self.regexes: list[tuple[int, re.Pattern]] = []
        self.needing: dict[int, list[int]] = {}                  # anchor spec -> the patterns that need it
        self.unanchored: list[int] = []                          # patterns of optional tokens only (run always)

    def _spec(self, token: dict) -> int:
        attr, value = next((a, v) for a, v in token.items() if a != "OP")
        ((operator, values),) = value.items()
        key = (attr, operator, tuple(values) if operator == "IN" else values)
        if key not in self.spec_ids:
            spec = self.spec_ids[key] = len(self.spec_ids)
            if operator == "REGEX" and attr == "LOWER":
                self.regexes.append((spec, re.compile(values)))
            elif operator == "IN" and attr in ("LEMMA", "LOWER"):
                for word in values:
                    (self.by_lemma if attr == "LEMMA" else self.by_lower).setdefault(word, []).append(spec)
            else:
                raise ValueError(f"unexpected token spec {token!r}")
        return self.spec_ids[key]

    def add(self, key: str, pattern: list[dict]) -> None:
        matcher = Matcher(self.vocab, validate=False)   # the one Matcher has validated the pattern
        matcher.add(key, [pattern])
        match_id = self.vocab.strings[key]
        specs = tuple(sorted({self._spec(token) for token in pattern if "OP" not in token}))
        self.order[match_id] = len(self.order)
        self.single[match_id] = (matcher, len(pattern), specs)
        for spec in specs:
            self.needing.setdefault(spec, []).append(match_id)
        if not specs:
            self.unanchored.append(match_id)

    def positions(self, doc: Doc) -> dict[int, list[int]]:
        """Anchor spec -> the tokens it matches (LEMMA as the Matcher compares it, LOWER, LOWER REGEX)."""
        found: dict[int, list[int]] = {}
        regex_hits: dict[str, list[int]] = {}
        for i, token in enumerate(doc):
            lower = token.lower_
            for spec in self.by_lemma.get(token.lemma_, ()):
                found.setdefault(spec, []).append(i)
            for spec in self.by_lower.get(lower, ()):
                found.setdefault(spec, []).append(i)
            if self.regexes:
                if lower not in regex_hits:
                    regex_hits[lower] = [spec for spec, regex in self.regexes if regex.search(lower)]
                for spec in regex_hits[lower]:
                    found.setdefault(spec, []).append(i)
        return found

    def find(self, doc: Doc) -> list[tuple[int, int, int, list[int]]]:
        found = self.positions(doc)
        size = len(doc)
        matches = []
        satisfied: dict[int, int] = {}   # pattern -> how many of its anchor specs match a token of the message
        for spec in found:
            for match_id in self.needing.get(spec, ()):
                satisfied[match_id] = satisfied.get(match_id, 0) + 1
        for match_id in self.unanchored + [m for m, count in satisfied.items() if count == len(self.single[m][2])]:
            matcher, length, specs = self.single[match_id]
            windows = _windows(min((found[spec] for spec in specs), key=len), length, size) if specs else [(0, size)]
            for first, last in windows:
                if first == 0 and last == size:
                    matches.extend(tuple(m) for m in matcher(doc, with_alignments=True))
                    continue
                for key, start, end, alignment in matcher(doc[first:last], with_alignments=True):
                    if last == size or start + length + 1 <= last - first:
                        matches.append((key, first + start, first + end, alignment))
        matches.sort(key=lambda m: (m[1], m[2], self.order[m[0]]))
        return matches


def _windows(anchor: list[int], length: int, size: int) -> list[tuple[int, int]]:
    """Merged token windows [first, last) holding every match of a pattern of `length` tokens that spans one
    of the `anchor` positions, each extended to one token after its last possible match."""
    windows: list[tuple[int, int]] = []
    for position in anchor:
        first, last = max(0, position - length + 1), min(size, position + length + 1)
        if windows and first <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], last))
        else:
            windows.append((first, last))
    return windows


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
