"""Deterministic red-flag detection: Matcher patterns from red_flags.yml, fuzzy spelling, negation, idiom traps."""
from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import spacy
from rapidfuzz import fuzz, process
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc

from bot.paths import SPACY_PIPELINE_DIR
from bot.triage.context import MessageContext
from bot.triage.flags import RED_FLAGS_FILE, Flag, FlagFile, level_rank, load_flag_file

MAX_CHARS = 50_000  # far above any channel's message limit; longer input is cut here (documented)

# A wildcard token (pattern "*N") never crosses the end of a sentence or a "but".
_WILDCARD_STOPS = [".", "!", "?", ";", "but", "\n"]
# Negation cues (lemmas). "n't"/"nt" lemmatise to "not".
NEGATION_CUES = {"no", "not", "never", "without", "nothing", "none", "neither", "nor", "nobody", "zero", "nope"}
# A cue followed by one of these does not negate ("not sure", "no idea", "no longer", "not only").
PSEUDO_NEGATION_NEXT = {"sure", "certain", "know", "idea", "tell", "remember", "only", "just", "doubt", "100",
                        "longer", "matter", "clue", "joke", "kidding", "lie", "exaggerating", "wonder"}
# Negation does not reach back across these (clause boundaries). Comma included: for safety a "no" before a
# comma never cancels what follows ("No, I heard a pop"; "didn't run today, heard a pop yesterday").
CLAUSE_BOUNDARIES = {".", ",", ";", ":", "!", "?", "(", ")", "-", "--", "\n", "but", "although", "though", "however",
                     "yet", "except", "and", "then", "so", "because", "after", "before", "until", "till", "when",
                     "since", "while", "whereas", "which", "who", "now", "today", "yesterday"}
NEGATION_WINDOW = 5
# Resolution after a soon-level mention: "the swelling has gone down".
RESOLUTION_PHRASES = [("gone",), ("went", "down"), ("gone", "down"), ("goes", "down"), ("went", "away"),
                      ("gone", "away"), ("disappeared",), ("subsided",), ("settled",), ("eased",), ("resolved",),
                      ("cleared",), ("better",), ("fine",), ("normal",)]
# Whether a mention is a report at all (questions, third person, history, durations): bot/triage/context.py.
# "if" makes a hypothetical, except after these ("not sure if", "wondering if") or with a past-tense report.
UNCERTAIN_BEFORE_IF = {"sure", "know", "wonder", "wondering", "wondered", "unsure", "idea", "tell", "ask", "asking",
                       "check", "see", "certain", "clue", "knows", "curious", "worried", "worry", "scared"}
HYPOTHETICAL_CUES = {"if", "expect", "suppose", "supposing", "imagine", "hypothetically", "ever"}
PAST_REPORT_FORMS = {"heard", "felt", "tore", "torn", "went", "gave", "struck", "shot", "could", "got", "had"}

# Signals too common to count as evidence that a message is not a report (see Detection.non_report).
GENERIC_SIGNALS = {"tendon_symptom_any", "local_sign"}
# An idiom trap counts as that evidence only when it contains a red-flag word ("hit the wall", "snapped a photo",
# "chest strap"), not for "warm up" or "heel lifts". Vocabulary groups of red_flags.yml, plus these words.
TRAP_EVIDENCE_GROUPS = ("noise", "noise_verb", "struck", "swollen", "bruise")
TRAP_EVIDENCE_WORDS = {"chest", "breath", "breathless", "breathlessness", "gap", "dent", "hole", "give", "gave",
                       "given", "way", "walk", "stand", "weight", "hop", "temperature", "temp", "rupture", "kick"}

_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "couple": 2, "few": 3, "several": 3,
                 "many": 4, "some": 2}
_NUM_REGEX = r"^(\d+([.,]\d+)?(-\d+)?\+?|" + "|".join(_NUMBER_WORDS) + ")$"
_UNIT_DAYS = {"day": 1, "days": 1, "week": 7, "weeks": 7, "wk": 7, "wks": 7, "fortnight": 14, "month": 30,
              "months": 30, "year": 365, "years": 365}

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


@dataclass(frozen=True)
class _PatternInfo:
    kind: str              # "flag", "signal" or "trap"
    entry_id: str          # flag/signal id, or the trap pattern
    wildcard: tuple[bool, ...]
    unless: frozenset[str] = frozenset()


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

    def __init__(self, flag_file: FlagFile, nlp: Language) -> None:
        self.file = flag_file
        self.nlp = nlp
        self.lemmatizer = nlp.get_pipe("lemmatizer") if "lemmatizer" in nlp.pipe_names else None
        self.matcher = Matcher(nlp.vocab)
        self.patterns: dict[str, _PatternInfo] = {}
        self.entries: dict[str, Flag] = {f.id: f for f in flag_file.flags + flag_file.signals}
        self.flag_order = [f.id for f in flag_file.flags]
        self.fuzzy_vocab: set[str] = set()
        self._lock = threading.Lock()
        for entry in flag_file.flags + flag_file.signals:
            kind = "signal" if entry.level is None else "flag"
            for number, source in enumerate(entry.patterns):
                self._add(f"{kind}:{entry.id}:{number}", source, _PatternInfo(kind, entry.id, ()), fuzzy=True)
        for number, trap in enumerate(flag_file.traps):
            self._add(f"trap:{number}", trap.pattern, _PatternInfo("trap", trap.pattern, (), trap.unless), False)
        for number, pattern in enumerate(flag_file.non_reports):
            self._add(f"non_report:{number}", pattern, _PatternInfo("non_report", pattern, ()), False)
        lookups = self.lemmatizer.lookups.get_table("lemma_lookup") if self.lemmatizer else None
        self._lemma_table = lookups
        self._lexicon_values = set(lookups.values()) if lookups is not None else set()
        self._fuzzy_list = sorted(self.fuzzy_vocab)
        # spelling cache, per engine (an lru_cache on the method would be shared by all engines and keep them alive)
        self._correct_cached = lru_cache(maxsize=20_000)(self._correct)
        self.trap_evidence = set(TRAP_EVIDENCE_WORDS)
        for group in TRAP_EVIDENCE_GROUPS:
            self.trap_evidence.update(self.file.vocab.get(group, ()))
            self.trap_evidence.update(self.lemma(w) for w in self.file.vocab.get(group, ()))

    # ------------------------------------------------------------------ compiling the pattern language
    def lemma(self, word: str) -> str:
        if not self.lemmatizer:
            return word
        token = self.nlp.make_doc(word)
        if len(token) != 1:
            return word
        return self.lemmatizer.lookup_lemmatize(token[0])[0]

    def _token(self, spec: str, where: str) -> tuple[list[dict], list[bool], set[str]]:
        if re.fullmatch(r"\*\d+", spec):
            count = int(spec[1:])
            wild = {"LOWER": {"NOT_IN": _WILDCARD_STOPS}, "IS_SPACE": False, "OP": "?"}
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
            token: dict = {"LOWER": {"REGEX": _NUM_REGEX}}
        elif exact and not lemmas:
            token = {"LOWER": {"IN": sorted(exact)}}
        else:
            lemmas.update(exact | {self.lemma(w) for w in exact})
            token = {"LEMMA": {"IN": sorted(lemmas)}}
        if optional:
            token["OP"] = "?"
        return [token], [False], words

    def _add(self, key: str, source: str, info: _PatternInfo, fuzzy: bool) -> None:
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
        self.patterns[key] = _PatternInfo(info.kind, info.entry_id, tuple(wildcard), info.unless)

    # ------------------------------------------------------------------ spelling
    def is_known_word(self, word: str) -> bool:
        if word in self.fuzzy_vocab:
            return True
        if self._lemma_table is not None and (word in self._lemma_table or word in self._lexicon_values):
            return True
        return False

    def correct(self, word: str) -> str:
        """The flag-vocabulary word a misspelt token stands for ("swolen" -> "swollen"), else the token."""
        return self._correct_cached(word)

    def _correct(self, word: str) -> str:
        if len(word) < 4 or not word.isalpha() or self.is_known_word(word):
            return word
        cutoff = 80 if len(word) >= 6 else 85
        best = process.extractOne(word, self._fuzzy_list, scorer=fuzz.ratio, score_cutoff=cutoff)
        if best is None:
            return word
        candidate, score, _ = best
        if candidate[0] != word[0] and score < 90:
            return word
        return candidate

    # ------------------------------------------------------------------ detection
    def make_doc(self, text: str, doc: Doc | None) -> tuple[Doc, list[tuple[int, int]]]:
        lower = text.lower()
        if doc is not None and doc.text == lower:
            tokens = [(t.text, t.whitespace_, t.idx) for t in doc]
        else:
            tokens = [(t.text, t.whitespace_, t.idx) for t in self.nlp.tokenizer(lower)]
        words = [self.correct(word) if not word.isspace() else word for word, _, _ in tokens]
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
            matches = self.matcher(fixed, with_alignments=True)
        return _Evaluation(self, fixed, offsets, text.lower(), matches, set(previous)).result()


class _Evaluation:
    """One message's matches turned into a Detection (negation, traps, questions, composites, levels)."""

    def __init__(self, engine: RedFlagEngine, doc: Doc, offsets, lower: str, matches, previous: set[str]):
        self.engine = engine
        self.doc = doc
        self.offsets = offsets
        self.lower = lower
        self.previous = previous
        self.lemmas = [t.lemma_.lower() or t.lower_ for t in doc]
        self.words = [t.lower_ for t in doc]
        self.sentence_of, self.sentences = self._sentences()
        self.context = MessageContext(self.words, self.lemmas)
        self.matches = []
        for match_id, start, end, alignment in matches:
            info = engine.patterns[engine.nlp.vocab.strings[match_id]]
            content = [start + i for i, a in enumerate(alignment) if not info.wildcard[a]]
            wild = [start + i for i, a in enumerate(alignment) if info.wildcard[a]]
            self.matches.append((info, start, end, content, wild))

    # sentences: (start, end) token ranges
    def _sentences(self):
        sentence_of = [0] * len(self.doc)
        sentences = []
        start = 0
        for i, word in enumerate(self.words):
            sentence_of[i] = len(sentences)
            if word in {".", "!", "?"} or "?" in word or i == len(self.words) - 1:
                nxt = i + 1 < len(self.words) and self.words[i + 1] in {".", "!", "?"}
                if nxt:
                    continue
                sentences.append((start, i + 1))
                start = i + 1
        return sentence_of, sentences

    def _cue_at(self, i: int) -> bool:
        if self.lemmas[i] not in NEGATION_CUES and self.words[i] not in NEGATION_CUES:
            return False
        nxt = self.words[i + 1] if i + 1 < len(self.words) else ""
        if nxt in PSEUDO_NEGATION_NEXT or nxt in {",", "!", "."}:
            return False
        if self.words[i] == "no" and nxt in {"way"}:
            return False
        return True

    def _negated(self, start: int, end: int, content: list[int], wild: list[int], post_resolution: bool) -> bool:
        i, steps = start - 1, 0
        while i >= 0 and steps < NEGATION_WINDOW:
            if self.words[i] in CLAUSE_BOUNDARIES or self.lemmas[i] in {"but"}:
                break
            if self._cue_at(i):
                return True
            i, steps = i - 1, steps + 1
        if any(self._cue_at(j) for j in wild):
            return True
        if post_resolution:
            tail = self.words[end:end + 5]
            for n in range(len(tail)):
                if tail[n] in CLAUSE_BOUNDARIES - {"now"}:
                    break
                for phrase in RESOLUTION_PHRASES:
                    if tuple(tail[n:n + len(phrase)]) == phrase:
                        return True
        return False

    def _hypothetical(self, start: int, content: list[int]) -> bool:
        sentence_start = self.sentences[self.sentence_of[start]][0] if self.sentences else 0
        past = any(self.words[j] in PAST_REPORT_FORMS or (self.words[j].endswith("ed") and
                                                          self.words[j] != self.lemmas[j]) for j in content)
        i = start - 1
        while i >= max(sentence_start, start - 12):
            word = self.words[i]
            if word in HYPOTHETICAL_CUES:
                if word == "if" and i > 0 and self.words[i - 1] in UNCERTAIN_BEFORE_IF:
                    return False
                if word == "ever" and not any(w == "if" for w in self.words[sentence_start:start]):
                    return False
                return not past
            if word == "case" and i > 0 and self.words[i - 1] == "in":
                return True
            i -= 1
        return False

    def _span(self, entry_id: str, start: int, end: int) -> FlagSpan:
        s, e = self.offsets[start][0], self.offsets[end - 1][1]
        return FlagSpan(entry_id, self.lower[s:e], s, e)

    def _validate(self, entry: Flag, start: int, end: int) -> bool:
        if entry.validator == "swelling":
            return self.context.swelling_ok(start, end)
        if entry.validator != "persistent":
            return True
        words = self.words[start:end]
        days, unit = None, None
        for k, word in enumerate(words):
            if word in _UNIT_DAYS or self.lemmas[start + k] in _UNIT_DAYS:
                size = _UNIT_DAYS.get(word, _UNIT_DAYS.get(self.lemmas[start + k], 7))
                number = 2 if word.endswith("s") else 1
                if k > 0:
                    prev = words[k - 1]
                    if prev in _NUMBER_WORDS:
                        number = _NUMBER_WORDS[prev]
                    else:
                        digits = re.findall(r"\d+(?:\.\d+)?", prev)
                        if digits:
                            number = max(float(d) for d in digits)
                days, unit = number * size, start + k
            elif word in {"ages"}:
                days, unit = 60, start + k
        if days is not None:
            comparative = any(w in {"over", "more", "than", "least", "almost", "nearly"} for w in words)
            if days < 7 or (days < 14 and not comparative):
                return False
        return self.context.persistent_ok(start, end, days, unit)

    def result(self) -> Detection:
        trap_tokens: set[int] = set()
        trapped: list[FlagSpan] = []
        for info, start, end, content, _ in self.matches:
            if info.kind == "non_report":
                trapped.append(self._span("non_report", start, end))
            if info.kind != "trap":
                continue
            if info.unless:
                s_start, s_end = self.sentences[self.sentence_of[start]]
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
            evidence = entry.id not in GENERIC_SIGNALS
            if trap_tokens.intersection(content) or not self._validate(entry, start, end):
                if evidence:
                    dismissed.append(self._span(entry.id, start, end))
                continue
            span = self._span(entry.id, start, end)
            bucket = status.setdefault(entry.id, {"positive": [], "negated": [], "informational": []})
            if self.context.not_a_report(start, end) or self._hypothetical(start, content):
                bucket["informational"].append(span)
                if evidence and entry.level is None:
                    dismissed.append(span)
            elif self._negated(start, end, content, wild, entry.post_resolution):
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
            if (all(group & (positive | asked) for group in groups)
                    and any(group & self._current(status) for group in groups)):
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
