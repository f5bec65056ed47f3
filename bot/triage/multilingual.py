"""Red flags in Chinese (Traditional, Simplified) and Spanish: per-language lexicons, the English flags and levels.

Each lexicon (bot/triage/lexicon/<lang>.yml, loaded by bot/triage/multilingual_lexicon.py) gives, for every flag
and signal of bot/triage/red_flags.yml, its own patterns, plus the language's idiom traps and its context words
(negation, hypotheticals, someone else, history, questions, resolution). Levels, reasons and sources stay in
red_flags.yml: one set of flags.

Matching is by regular expressions compiled from the lexicon's small pattern language: characters for Chinese
(no segmentation model, nothing to download), whole words for Spanish, accent-insensitive ("talon" = "talón").
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

from bot.triage.detect import Detection, FlagSpan
from bot.triage.flags import RED_FLAGS_FILE, level_rank, load_flag_file
from bot.triage.multilingual_lexicon import HAN, LEXICON_DIR, LEXICON_LANGUAGES, Lexicon, load_lexicon, normalise

__all__ = ["LEXICON_DIR", "LEXICON_LANGUAGES", "detect_in_language", "load_lexicon", "merge_detections",
           "lexicons_for", "with_other_languages"]

logger = logging.getLogger(__name__)


class _Message:
    """One message as one lexicon sees it: normalised text, sentences, clauses, and where the context words are."""

    def __init__(self, lexicon: Lexicon, text: str) -> None:
        self.lexicon = lexicon
        self.text = normalise(text, lexicon.script)
        self.pseudo = self._spans("pseudo")
        # a full stop before a space ends a sentence too, and an opening ¿ / ¡ starts one ("... andar. ¿qué es?")
        self.sentence_ends = [m.end() for m in re.finditer(r"[。！？；!?;\n]+|\.+(?=\s|$)|(?=[¿¡])", self.text)]
        clause = r"[。！？；!?;\n,，、:：()（）]+|\.+(?=\s|$)|(?=[¿¡])"
        self.clause_ends = [m.end() for m in re.finditer(clause, self.text)]
        for key in ("but", "clause_breaks"):
            breaks = lexicon.context.get(key)
            if breaks is not None:
                self.clause_ends += [m.start() for m in breaks.finditer(self.text)]
        self.clause_ends.sort()

    def _spans(self, key: str) -> list[tuple[int, int]]:
        regex = self.lexicon.context.get(key)
        return [(m.start(), m.end()) for m in regex.finditer(self.text)] if regex is not None else []

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        before = max([e for e in self.sentence_ends if e <= start], default=0)
        after = min([e for e in self.sentence_ends if e > end], default=len(self.text))
        return before, after

    def clause_start(self, start: int) -> int:
        return max([e for e in self.clause_ends if e <= start], default=0)

    def clause_end(self, end: int) -> int:
        return min([e for e in self.clause_ends if e >= end], default=len(self.text))

    def cues(self, key: str, start: int, end: int) -> list[tuple[int, int]]:
        regex = self.lexicon.context.get(key)
        if regex is None or start >= end:
            return []
        found = []
        for m in regex.finditer(self.text, start, end):
            if key in ("negation", "third_person", "hypothetical") and any(a <= m.start() < b for a, b in self.pseudo):
                continue
            found.append((m.start(), m.end()))
        return found

    def window_start(self, start: int) -> int:
        """How far back a negation reaches: `window` characters (Chinese) or words (Spanish), inside the clause."""
        clause = self.clause_start(start)
        if self.lexicon.script == "han":
            return max(clause, start - self.lexicon.window)
        words = [m.start() for m in re.finditer(r"\w+", self.text[clause:start])]
        return clause + (words[-self.lexicon.window] if len(words) >= self.lexicon.window else 0)

    def negated(self, match: re.Match) -> bool:
        start = match.start()
        if self.cues("negation", self.window_start(start), start):
            return True
        for name, value in match.groupdict().items():
            if name.startswith("gap") and value:
                if self.cues("negation", match.start(name), match.end(name)):
                    return True
        return False

    def not_a_report(self, start: int, end: int) -> bool:
        """A hypothetical, a question about the sign, someone else's, or history (unless the sentence says now).
        A question cue counts only in the mention's own clause: "I heard a snap and can't walk, what is it?"
        reports the snap and then asks; "what is a rupture?" only asks."""
        s_start, s_end = self.sentence(start, end)
        if self.cues("hypothetical", s_start, start) or self.cues("question", self.clause_start(start),
                                                                   self.clause_end(end)):
            return True
        last_now = max([b for _, b in self.cues("now", s_start, start)], default=-1)  # "last year ..., today ..."
        third = [b for _, b in self.cues("third_person", s_start, start)]
        if third and not self.cues("first_person", max(third), start):
            return True
        history = [a for a, _ in self.cues("history", s_start, start)]
        if history and last_now < max(history):
            return True
        if self.cues("question_after", end, self.clause_end(end)) and not self.cues("first_person", s_start, start):
            return True
        return False

    def resolved(self, end: int) -> bool:
        s_start, s_end = self.sentence(end, end)
        return bool(self.cues("resolution", end, s_end))

    def too_short(self, match: re.Match, min_days: int) -> bool:
        """A duration below min_days (half of it after "more than"); no duration named is not too short."""
        days = self.days(match)
        if days is None:
            return False
        if self.cues("comparative", max(0, match.start() - 4), match.end()):
            min_days = min_days // 2
        return days < min_days

    def days(self, match: re.Match) -> float | None:
        """The longest duration named in the match, in days (None when it names none)."""
        text = match.group(0)
        best = None
        units = sorted(self.lexicon.units, key=len, reverse=True)
        if not units:
            return None
        unit_re = "|".join(re.escape(u) for u in units)
        words = sorted(self.lexicon.numbers, key=len, reverse=True)
        num_re = "|".join([r"\d+(?:[.,]\d+)?"] + [re.escape(w) for w in words])
        sep = r"\s*" if self.lexicon.script == "han" else r"\s+"
        for m in re.finditer(f"((?:{num_re})+){sep}(?:個|个|de\\s+)?({unit_re})", text):
            number = self._number(m.group(1))
            days = number * self.lexicon.units[m.group(2)]
            best = days if best is None else max(best, days)
        if best is None:
            for m in re.finditer(unit_re, text):
                best = max(best or 0, self.lexicon.units[m.group(0)])
        return best

    def _number(self, text: str) -> float:
        digits = re.findall(r"\d+(?:[.,]\d+)?", text)
        if digits:
            return float(digits[-1].replace(",", "."))
        if text in self.lexicon.numbers:
            return self.lexicon.numbers[text]
        # Chinese compounds: 十二 = 12, 兩 = 2, 幾 = a few (3)
        total, current = 0.0, 0.0
        for char in text:
            value = self.lexicon.numbers.get(char)
            if value is None:
                continue
            if value == 10:
                total += (current or 1) * 10
                current = 0
            else:
                current = value
        return total + current or 1.0


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def detect_in_language(text: str, language: str, previous: Iterable[str] = (),
                       lexicon: Lexicon | None = None) -> Detection:
    """The red flags of one message read with one lexicon (the English flags and levels): the checkout's lexicon
    of `language`, or the one given (a model's own copy)."""
    lexicon = lexicon or load_lexicon(language)
    message = _Message(lexicon, text)
    traps = [(m.start(), m.end()) for t in lexicon.traps for m in t.regex.finditer(message.text)]
    status: dict[str, list[tuple[str, FlagSpan]]] = {}
    for entry in lexicon.entries.values():
        for pattern in entry.patterns:
            for match in pattern.regex.finditer(message.text):
                if match.end() == match.start():
                    continue
                span = FlagSpan(entry.id, match.group(0), match.start(), match.end())
                if any(_overlaps((match.start(), match.end()), trap) for trap in traps):
                    kind = "dismissed"
                elif message.negated(match) or (entry.post_resolution and message.resolved(match.end())):
                    kind = "negated"
                elif message.not_a_report(match.start(), match.end()):
                    kind = "informational"
                elif entry.min_days is not None and message.too_short(match, entry.min_days):
                    kind = "dismissed"
                else:
                    kind = "positive"
                status.setdefault(entry.id, []).append((kind, span))
    positive = {i for i, found in status.items() if any(k == "positive" for k, _ in found)}
    known = positive | set(previous)
    changed = True
    while changed:  # composite flags: every group of `requires` has a positive member (this turn or earlier)
        changed = False
        for entry in lexicon.entries.values():
            if entry.id in positive or not entry.requires:
                continue
            if all(any(member in known for member in group) for group in entry.requires):
                positive.add(entry.id)
                known.add(entry.id)
                changed = True
    detection = Detection()
    flags = [i for i in positive if lexicon.entries[i].level is not None]
    detection.flags = sorted(flags, key=lambda i: (level_rank(lexicon.entries[i].level), i))
    detection.level = lexicon.entries[detection.flags[0]].level if detection.flags else None
    detection.signals = sorted(i for i in positive if lexicon.entries[i].level is None)
    for entry_id, found in status.items():
        for kind, span in found:
            if kind == "positive" and entry_id in detection.flags:
                detection.spans.append(span)
            elif kind == "negated" and entry_id not in positive:
                detection.negated.append(span)
            elif kind == "informational" and entry_id not in positive:
                detection.informational.append(span)
            elif kind == "dismissed" and entry_id not in positive:
                detection.dismissed.append(span)
    for flag_id in detection.flags:  # a composite flag's evidence: its members' spans, under its own id
        if any(span.flag == flag_id for span in detection.spans):
            continue
        for group in lexicon.entries[flag_id].requires:
            for member in group:
                found = [span for kind, span in status.get(member, []) if kind == "positive"]
                if found:
                    detection.spans.append(FlagSpan(flag_id, found[0].text, found[0].start, found[0].end))
                    break
    return detection


def merge_detections(first: Detection, second: Detection) -> Detection:
    """Both readings of one message: every flag found by either, the most severe level."""
    merged = Detection()
    merged.flags = list(dict.fromkeys(first.flags + second.flags))
    levels = [d.level for d in (first, second) if d.level]
    merged.level = min(levels, key=level_rank) if levels else None
    merged.flags.sort(key=lambda f: level_rank(_level_of(f)))
    for name in ("spans", "negated", "informational", "dismissed"):
        setattr(merged, name, getattr(first, name) + getattr(second, name))
    merged.signals = list(dict.fromkeys(first.signals + second.signals))
    return merged


def _level_of(flag_id: str) -> str | None:
    try:
        return load_flag_file(RED_FLAGS_FILE).flag(flag_id).level
    except KeyError:
        return None


def lexicons_for(text: str, language: str | None, detection: dict | None = None) -> list[str]:
    """Which lexicons read a message: Chinese ones whenever it has Han characters (both scripts: people mix them
    and a short message's script is a guess), Spanish unless the message is confidently English."""
    chosen: list[str] = []
    if HAN.search(text or ""):
        first = language if language in ("zh-Hant", "zh-Hans") else "zh-Hant"
        chosen += [first, "zh-Hans" if first == "zh-Hant" else "zh-Hant"]
    confidence = float((detection or {}).get("confidence") or 0.0)
    if language == "es" or not (language == "en" and confidence >= 0.6):
        if re.search(r"[a-zA-Z\u00c0-\u024f]{2}", text or ""):
            chosen.append("es")
    return chosen


def with_other_languages(english: Detection, text: str, language: str | None,
                         detection: dict | None = None, lexicons: Mapping[str, Lexicon] | None = None) -> Detection:
    """The English detection plus what the message's language lexicons find (bot/nlp/red_flag_detector.py).
    `lexicons`: language -> Lexicon to use (a model's own copies); otherwise the checkout's.
    A lexicon that fails is logged and skipped: the English reading and the classifier still decide."""
    lexicons = lexicons or {}
    result = english
    if language is None:  # no LanguageDetector ran before this (a test, another pipeline): detect here
        from bot.nlp.language_detector import detect_language

        found = detect_language(text)
        language, detection = found.language, found.to_dict()
    readings: dict[str, Detection] = {}
    for lexicon_language in lexicons_for(text, language, detection):
        try:
            readings[lexicon_language] = detect_in_language(text, lexicon_language,
                                                            lexicon=lexicons.get(lexicon_language))
        except Exception:  # noqa: BLE001 - one broken lexicon must not stop triage in the others
            logger.exception("red-flag lexicon %s failed on a message", lexicon_language)
            continue
        result = merge_detections(result, readings[lexicon_language])
    own = readings.get(language or "")
    if own is not None and english.flags:
        result = _drop_english_misreadings(result, english, own, language or "", lexicons.get(language or ""))
    return result


def _drop_english_misreadings(result: Detection, english: Detection, own: Detection, language: str,
                              lexicon: Lexicon | None = None) -> Detection:
    """In a message in another language, a flag that only the English patterns raised (spelling correction turns
    "ciprofloxacino" into "ciprofloxacin") is dropped when the message's own lexicon saw the same sign and judged it
    not a report: negated, asked about, someone else's, history or an idiom. Anything it did not see stays."""
    lexicon = lexicon or load_lexicon(language)
    judged = {s.flag for s in own.negated + own.informational + own.dismissed}
    dropped = []
    for flag in english.flags:
        if flag in own.flags or flag not in lexicon.entries:
            continue
        members = {m for group in lexicon.entries[flag].requires for m in group}
        if flag in judged or (members and judged & members and not (set(own.signals) & members)):
            dropped.append(flag)
    if not dropped:
        return result
    logger.info("English reading of a %s message dropped %s: its own lexicon judged them not a report",
                language, dropped)
    result.flags = [f for f in result.flags if f not in dropped]
    result.spans = [s for s in result.spans if s.flag not in dropped]
    result.level = _level_of(result.flags[0]) if result.flags else None
    return result
