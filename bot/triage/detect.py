"""Deterministic red-flag detection: one message's tokens matched against red_flags.yml, then qualified.

The path of a message: clean_text -> tokens (spelling corrected, lemmatised) -> the Matcher of every pattern
(bot/triage/patterns.py) -> for each match: idiom traps, the flag's validator, is it a report at all
(bot/triage/context.py), hypothetical or negated (bot/triage/qualifiers.py) -> composite flags from their
members (and from earlier turns) -> the most severe level. This module only orchestrates; word lists are in
bot/triage/lexicon/en.yml, flags and patterns in bot/triage/red_flags.yml."""
from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from bot.paths import SPACY_PIPELINE_DIR
from bot.triage import qualifiers
from bot.triage.context import MessageContext
from bot.triage.english_words import EnglishWords, english_words
from bot.triage.flags import RED_FLAGS_FILE, Flag, FlagFile, level_rank, load_flag_file
from bot.triage.patterns import CompiledPatterns, Speller

MAX_CHARS = 50_000  # far above any channel's message limit; longer input is cut here (documented)

@dataclass(frozen=True)
class FlagSpan:
    """Where a flag (or signal) was found: character offsets into the cleaned, lower-cased message."""
    flag: str
    text: str
    start: int
    end: int


@dataclass
class Detection:
    """The result of detect_red_flags: the most severe level, the flags, and the evidence."""
    level: str | None = None
    flags: list[str] = field(default_factory=list)            # positive flags, most severe first
    spans: list[FlagSpan] = field(default_factory=list)       # where the positive flags were found
    negated: list[FlagSpan] = field(default_factory=list)     # mentions cancelled by a negation ("no pop")
    informational: list[FlagSpan] = field(default_factory=list)  # questions/hypotheticals, not a report
    # mentions judged not to be a report: an idiom trap, a validator (time words that are not the pain lasting,
    # a bit puffy after a run), or a question/third person/history about a signal of a composite flag
    dismissed: list[FlagSpan] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)          # positive signals (e.g. calf_sign), for history
    asked: list[str] = field(default_factory=list)            # flags/signals only asked about (for composites)

    @property
    def negated_flags(self) -> list[str]:
        """Flag ids mentioned only in negated form (no positive mention of the same flag)."""
        seen: list[str] = []
        for span in self.negated:
            if span.flag not in self.flags and span.flag not in seen:
                seen.append(span.flag)
        return seen

    def to_dict(self) -> dict:
        """The `red_flags` message property (JSON-serialisable)."""
        return {
            "level": self.level,
            "flags": list(self.flags),
            "negated": self.negated_flags,
            "signals": list(self.signals),
            "asked": list(self.asked),
            "spans": [asdict(s) for s in self.spans],
            "negated_spans": [asdict(s) for s in self.negated],
            "informational": [asdict(s) for s in self.informational],
            "dismissed": [asdict(s) for s in self.dismissed],
        }

    @property
    def non_report(self) -> bool:
        """Nothing reported, but something mentioned and judged not to be a report (negated, asked about,
        someone else's, in the past, an idiom). The NLU component lets this veto a classifier-only red_flag."""
        return not self.flags and bool(self.negated or self.informational or self.dismissed)


def clean_text(text: str) -> str:
    """Plain text for matching: HTML removed, entities decoded, typographic quotes straightened, lines ended."""
    text = str(text)[:MAX_CHARS]
    text = re.sub(r"<[^>]{0,500}>", " ", text)
    text = html.unescape(text)
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = re.sub(r"\s*[\r\n]+\s*", ". ", text)
    text = re.sub(r"[ \t\f\v\u00a0]+", " ", text)
    return text.strip()


class RedFlagEngine:
    """The compiled data file: one per process (see engine()), safe to share between threads."""

    def __init__(self, flag_file: FlagFile, nlp: Language, words: EnglishWords | None = None) -> None:
        self.file = flag_file
        self.nlp = nlp
        self.words = words or english_words()
        qualifiers.check_validators({f.validator for f in flag_file.flags + flag_file.signals if f.validator},
                                    str(RED_FLAGS_FILE))
        self.compiled = CompiledPatterns(flag_file, nlp, self.words)
        self.speller = Speller(self.compiled)
        self.lemmatizer = self.compiled.lemmatizer
        self.entries: dict[str, Flag] = {f.id: f for f in flag_file.flags + flag_file.signals}
        self.flag_order = [f.id for f in flag_file.flags]
        self._lock = threading.Lock()
        self.trap_evidence = set(self.words.trap_evidence_words)
        for group in self.words.trap_evidence_groups:
            self.trap_evidence.update(self.file.vocab.get(group, ()))
            self.trap_evidence.update(self.compiled.lemma(w) for w in self.file.vocab.get(group, ()))

    def make_doc(self, text: str, doc: Doc | None) -> tuple[Doc, list[tuple[int, int]]]:
        """The message's tokens with misspellings corrected and lemmas set, and each token's character offsets."""
        lower = text.lower()
        if doc is not None and doc.text == lower:
            tokens = [(t.text, t.whitespace_, t.idx) for t in doc]
        else:
            tokens = [(t.text, t.whitespace_, t.idx) for t in self.nlp.tokenizer(lower)]
        words = [self.speller.correct(word) if not word.isspace() else word for word, _, _ in tokens]
        spaces = [bool(ws) for _, ws, _ in tokens]
        fixed = Doc(self.nlp.vocab, words=words, spaces=spaces)
        if self.lemmatizer is not None:
            fixed = self.lemmatizer(fixed)
        offsets = [(idx, idx + len(word)) for word, _, idx in tokens]
        return fixed, offsets

    def detect(self, text: str, doc: Doc | None = None, previous: Iterable[str] = ()) -> Detection:
        text = clean_text(text or "")
        if not text:
            return Detection()
        with self._lock:  # Matcher and the spelling cache are not documented as thread-safe
            fixed, offsets = self.make_doc(text, doc)
            matches = self.compiled.find(fixed)
        return _Evaluation(self, fixed, offsets, text.lower(), matches, set(previous)).result()


class _Evaluation:
    """One message's matches turned into a Detection (traps, validators, reports, negation, composites, levels)."""

    def __init__(self, engine: RedFlagEngine, doc: Doc, offsets, lower: str, matches, previous: set[str]):
        self.engine = engine
        self.offsets = offsets
        self.lower = lower
        self.previous = previous
        self.lemmas = [t.lemma_.lower() or t.lower_ for t in doc]
        self.words = [t.lower_ for t in doc]
        self.context = MessageContext(self.words, self.lemmas, engine.words)
        self.matches = []
        for match_id, start, end, alignment in matches:
            info = engine.compiled.info(match_id)
            content = [start + i for i, a in enumerate(alignment) if not info.wildcard[a]]
            wild = [start + i for i, a in enumerate(alignment) if info.wildcard[a]]
            self.matches.append((info, start, end, content, wild))

    def _span(self, entry_id: str, start: int, end: int) -> FlagSpan:
        s, e = self.offsets[start][0], self.offsets[end - 1][1]
        return FlagSpan(entry_id, self.lower[s:e], s, e)

    def _valid(self, entry: Flag, start: int, end: int) -> bool:
        return not entry.validator or qualifiers.VALIDATORS[entry.validator](self.context, start, end)

    def result(self) -> Detection:
        trap_tokens: set[int] = set()
        trapped: list[FlagSpan] = []
        for info, start, end, content, _ in self.matches:
            if info.kind == "non_report":
                trapped.append(self._span("non_report", start, end))
            if info.kind != "trap":
                continue
            if info.unless:
                s_start, s_end = self.context.sentence_range(start)
                window = set(self.words[s_start:s_end]) | set(self.lemmas[s_start:s_end])
                if window & info.unless:
                    continue
            trap_tokens.update(content)
            if any(self.words[j] in self.engine.trap_evidence or self.lemmas[j] in self.engine.trap_evidence
                   for j in content):
                trapped.append(self._span("trap", start, end))
        status: dict[str, dict[str, list[FlagSpan]]] = {}
        dismissed: list[FlagSpan] = list(trapped)
        for info, start, end, content, wild in self.matches:
            if info.kind in ("trap", "non_report"):
                continue
            entry = self.engine.entries[info.entry_id]
            evidence = not entry.generic
            if trap_tokens.intersection(content) or not self._valid(entry, start, end):
                if evidence:
                    dismissed.append(self._span(entry.id, start, end))
                continue
            span = self._span(entry.id, start, end)
            bucket = status.setdefault(entry.id, {"positive": [], "negated": [], "informational": []})
            if self.context.not_a_report(start, end) or qualifiers.hypothetical(self.context, start, content):
                bucket["informational"].append(span)
                if evidence and entry.level is None:
                    dismissed.append(span)
            elif qualifiers.negated(self.context, start, end, wild, entry.post_resolution):
                bucket["negated"].append(span)
            else:
                bucket["positive"].append(span)
        positive = {k for k, v in status.items() if v["positive"]} | self._previous_members()
        negated_only = {k for k, v in status.items() if v["negated"] and not v["positive"]}
        # composites, in file order (a composite may use an earlier composite)
        for entry in list(self.engine.file.signals) + list(self.engine.file.flags):
            if not entry.requires or entry.id in positive:
                continue
            groups = [set(group) for group in entry.requires]
            # a member asked about in a question counts when another member is reported ("Does moxifloxacin
            # cause achilles pain? I'm taking it and my tendon aches"); at least one member must be reported now.
            asked = {k for k, v in status.items() if v["informational"]} - negated_only
            if composite_complete(groups, positive, asked, self._current(status)):
                spans = [s for group in groups for m in group & (positive | asked)
                         for s in status.get(m, {}).get("positive", []) + status.get(m, {}).get("informational", [])]
                status.setdefault(entry.id, {"positive": [], "negated": [], "informational": []})
                spans = [FlagSpan(entry.id, s.text, s.start, s.end) for s in spans]
                status[entry.id]["positive"].extend(spans or [FlagSpan(entry.id, "", 0, 0)])
                positive.add(entry.id)
            elif (all(group & (positive | negated_only) for group in groups)
                  and any(group & negated_only for group in groups)):
                spans = [FlagSpan(entry.id, s.text, s.start, s.end)
                         for group in groups for m in group & negated_only for s in status[m]["negated"]]
                status.setdefault(entry.id, {"positive": [], "negated": [], "informational": []})
                status[entry.id]["negated"].extend(spans)
        detection = Detection()
        flags = [f for f in self.engine.flag_order if status.get(f, {}).get("positive")]
        flags.sort(key=lambda f: (level_rank(self.engine.entries[f].level), self.engine.flag_order.index(f)))
        detection.flags = flags
        detection.level = self.engine.entries[flags[0]].level if flags else None
        detection.signals = sorted(k for k, v in status.items()
                                   if v["positive"] and self.engine.entries[k].level is None)
        detection.asked = sorted(k for k, v in status.items()
                                 if v["informational"] and not v["positive"] and k not in negated_only)
        for flag in flags:
            detection.spans.extend(_unique(status[flag]["positive"]))
        for key in self.engine.flag_order:
            if key in flags or key not in status:
                continue
            detection.negated.extend(_unique(status[key]["negated"]))
            detection.informational.extend(_unique(status[key]["informational"]))
        if not flags:
            detection.dismissed = _unique([s for s in dismissed if not status.get(s.flag, {}).get("positive")])
        return detection

    def _current(self, status) -> set[str]:
        return {k for k, v in status.items() if v["positive"]}

    def _previous_members(self) -> set[str]:
        """Flags and signals from earlier turns of the conversation (for "chest pain now, swollen calf before")."""
        return {p for p in self.previous if p in self.engine.entries}


def composite_complete(groups: list[set[str]], positive: set[str], asked: set[str], current: set[str]) -> bool:
    """The composite rule, for one message and across turns alike: every group has a member reported (now or
    earlier) or asked about now, and at least one group has a member reported now."""
    return all(group & (positive | asked) for group in groups) and any(group & current for group in groups)


def _unique(spans: list[FlagSpan]) -> list[FlagSpan]:
    """The longest span per start offset, without duplicates (Matcher returns every optional variant)."""
    best: dict[int, FlagSpan] = {}
    for span in spans:
        if span.start not in best or span.end > best[span.start].end:
            best[span.start] = span
    kept: list[FlagSpan] = []
    for span in sorted(best.values(), key=lambda s: (s.start, -s.end)):
        if kept and span.start < kept[-1].end and span.end <= kept[-1].end:
            continue
        kept.append(span)
    return kept


def _load_nlp(path: Path = SPACY_PIPELINE_DIR) -> Language:
    """The project's spaCy pipeline (tokenizer + lookup lemmatizer); built in memory if not built yet."""
    if (path / "meta.json").is_file():
        return spacy.load(path, exclude=["entity_ruler"])
    from bot.nlp.build_pipeline import build_pipeline

    return build_pipeline()


@lru_cache(maxsize=2)
def engine(path: Path = RED_FLAGS_FILE) -> RedFlagEngine:
    """The compiled red-flag engine, built once per process."""
    return RedFlagEngine(load_flag_file(path), _load_nlp())


def detect_red_flags(text: str, doc: Doc | None = None, previous: Iterable[str] = ()) -> Detection:
    """Find red flags in one message.

    doc: the message's spaCy doc (Rasa's SpacyNLP), reused for tokenisation when its text matches.
    previous: flag and signal ids seen earlier in the conversation (e.g. "calf_sign"), so that chest pain now and
    a swollen calf two turns ago make the emergency flag chest_symptoms_with_calf.
    Never raises on odd input (empty, very long, emoji, HTML, other languages).
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    return engine().detect(text, doc=doc, previous=previous)


def combine_with_earlier(red_flags: dict, previous: Iterable[str],
                         flag_file: FlagFile | None = None) -> tuple[str | None, list[str]]:
    """A message's detection as stored in its parse data (`red_flags`), combined with the flags and signals of
    earlier turns, without matching the text again: a composite flag whose members are split over the turns
    ("chest pain" now, a swollen calf two messages ago) becomes this message's flag. The same rule as inside
    one message: every group of the composite has a member reported now, earlier, or asked about now, and at
    least one group has a member reported now. Returns (most severe level, flags, most severe first)."""
    file = flag_file or load_flag_file()
    entries = {entry.id: entry for entry in file.flags + file.signals}
    current = {f for f in (red_flags.get("flags") or []) if f in entries}
    current |= {s for s in (red_flags.get("signals") or []) if s in entries}
    positive = current | {p for p in previous if p in entries}
    asked = {a for a in (red_flags.get("asked") or []) if a in entries}
    for entry in file.signals + file.flags:  # file order: a composite may use an earlier composite
        if not entry.requires or entry.id in positive:
            continue
        groups = [set(group) for group in entry.requires]
        if composite_complete(groups, positive, asked, current):
            positive.add(entry.id)
            current.add(entry.id)
    order = [flag.id for flag in file.flags]
    flags = sorted((f for f in order if f in current), key=lambda f: (level_rank(entries[f].level), order.index(f)))
    return (entries[flags[0]].level if flags else None), flags

