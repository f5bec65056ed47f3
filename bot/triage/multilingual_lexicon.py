"""Load and check the red-flag lexicons of other languages (bot/triage/lexicon/<lang>.yml) and compile their
patterns to regular expressions (bot/triage/multilingual.py matches them)."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from bot.triage.flags import RED_FLAGS_FILE, load_flag_file

LEXICON_DIR = Path(__file__).with_name("lexicon")
LEXICON_LANGUAGES = ("zh-Hant", "zh-Hans", "es")
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")  # one Han character (CJK blocks)
CONTEXT_KEYS = ("negation", "pseudo", "but", "clause_breaks", "hypothetical", "question", "question_after",
                "third_person", "first_person", "history", "now", "resolution", "comparative")

def normalise(text: str, script: str) -> str:
    """NFKC, lower case; for Latin script also without accents (so "tendon" matches "tendón")."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    if script == "latin":
        text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
        text = unicodedata.normalize("NFC", text)
    return text


@dataclass(frozen=True)
class Pattern:
    source: str
    regex: re.Pattern


@dataclass(frozen=True)
class Entry:
    """A flag or signal of one lexicon: its patterns and, for composite flags, the groups it requires."""
    id: str
    level: str | None
    patterns: tuple[Pattern, ...]
    requires: tuple[tuple[str, ...], ...] = ()
    min_days: int | None = None
    post_resolution: bool = False


@dataclass(frozen=True)
class Lexicon:
    language: str
    script: str                                   # han | latin
    entries: dict[str, Entry]
    traps: tuple[Pattern, ...]
    context: dict[str, re.Pattern | None]
    numbers: dict[str, float]
    units: dict[str, int]
    window: int                                   # how far back a negation reaches (characters or words)
    examples: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    path: Path = LEXICON_DIR


class _Compiler:
    """The pattern language (same spirit as red_flags.yml):
        word | a|b|c        a literal or any of these (Spanish: `stem~` also matches longer words: "hinch~";
                            `a_b` is the two words "a b", so "no_mejora|empeora" is one choice of phrases)
        @group              any entry of vocab[group]
        x?                  optional token
        *N                  up to N characters (Chinese) or words (Spanish) of anything, not across a sentence
        #NUM                a number: digits or the lexicon's number words (一, 兩, tres, ...)
    """

    def __init__(self, script: str, vocab: dict[str, list[str]], numbers: dict[str, float], where: str) -> None:
        self.script, self.vocab, self.where = script, vocab, where
        number_words = sorted(numbers, key=len, reverse=True)
        digits = r"\d+(?:[.,]\d+)?"
        if script == "han":
            self.number = "(?:" + "|".join([digits] + [re.escape(w) for w in number_words]) + ")+"
        else:
            self.number = "(?:" + "|".join([digits] + [re.escape(w) for w in number_words]) + ")"
        # a wildcard never crosses the end of a sentence or a "but"
        breaks = vocab.get("_wildcard_breaks") or []
        not_break = "".join(f"(?!{re.escape(normalise(b, script))})" for b in breaks)
        if script == "han":
            self.any_char = f"(?:{not_break}[^。！？；!?;\\n])"
        else:
            self.sep = r"[^\w.!?;\n]+"
            self.any_word = f"(?:{self.sep}{not_break}\\w+)"

    def literal(self, word: str) -> str:
        word = normalise(word, self.script)
        if self.script == "han":
            return r"\s*".join(re.escape(c) for c in word if not c.isspace())
        stem = word.endswith("~")
        parts = [re.escape(p) for p in word.rstrip("~").replace("_", " ").split()]
        body = self.sep.join(parts)
        return body + (r"\w*" if stem else "")

    def alternatives(self, token: str) -> str:
        options: list[str] = []
        for part in token.split("|"):
            if part.startswith("@"):
                group = part[1:]
                if group not in self.vocab:
                    raise ValueError(f"{self.where}: unknown vocab group @{group}")
                options += [self.literal(w) for w in self.vocab[group]]
            elif part == "#NUM":
                options.append(self.number)
            else:
                options.append(self.literal(part))
        options.sort(key=len, reverse=True)
        return "(?:" + "|".join(options) + ")"

    def compile(self, source: str) -> Pattern:
        tokens = source.split()
        if not tokens or tokens[0].startswith("*") or tokens[-1].startswith("*"):
            raise ValueError(f"{self.where}: pattern {source!r} must start and end with a word, not a wildcard")
        out: list[str] = []
        for index, token in enumerate(tokens):
            if re.fullmatch(r"\*\d+", token):
                n = int(token[1:])
                gap = f"{self.any_char}{{0,{n}}}?" if self.script == "han" else f"{self.any_word}{{0,{n}}}?"
                out.append(f"(?P<gap{index}>{gap})")
                continue
            optional = token.endswith("?") and len(token) > 1
            body = self.alternatives(token[:-1] if optional else token)
            if self.script == "han":
                piece = (r"\s*" if out else "") + body
            else:
                piece = (self.sep if out else "") + body
            out.append(f"(?:{piece})?" if optional else piece)
        regex = "".join(out)
        if self.script == "latin":
            regex = r"(?<!\w)" + regex + r"(?!\w)"
        try:
            return Pattern(source, re.compile(regex))
        except re.error as error:
            raise ValueError(f"{self.where}: pattern {source!r} does not compile: {error}") from None


def _cue_regex(words: Iterable[str], script: str) -> re.Pattern | None:
    """Context words as one regex; an entry starting "re:" is a regular expression ("re:hace \\d+ anos")."""
    words = [str(w) for w in words if str(w).strip()]
    if not words:
        return None
    parts = [w[3:] if w.startswith("re:") else re.escape(normalise(w, script)).replace(r"\ ", r"\s+")
             for w in words]
    body = "|".join(sorted(parts, key=len, reverse=True))
    return re.compile(f"(?:{body})" if script == "han" else rf"(?<!\w)(?:{body})(?!\w)")


@lru_cache(maxsize=8)
def load_lexicon(language: str, directory: Path = LEXICON_DIR) -> Lexicon:
    """The checkout's lexicon of one language (bot/triage/lexicon/<language>.yml), parsed once per process."""
    return read_lexicon(language, directory)


def read_lexicon(language: str, directory: Path = LEXICON_DIR, flags_path: Path = RED_FLAGS_FILE) -> Lexicon:
    """Parse and check <directory>/<language>.yml against the flag file at flags_path (the same ids and levels);
    errors name the file and the entry to fix. A model's own copy is read this way (bot/triage/snapshot.py)."""
    path = directory / f"{language}.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    script = data.get("script")
    if script not in ("han", "latin"):
        raise ValueError(f"{path}: script must be han or latin")
    if not str(data.get("translation") or "").strip():
        raise ValueError(f"{path}: say who must review this lexicon (translation: pending clinical review ...)")
    english = load_flag_file(flags_path)
    levels = {f.id: f.level for f in english.flags} | {s.id: None for s in english.signals}
    numbers = {normalise(str(k), script): float(v) for k, v in (data.get("numbers") or {}).items()}
    vocab = {str(k): [str(w) for w in v] for k, v in (data.get("vocab") or {}).items()}
    vocab["_wildcard_breaks"] = [str(w) for w in (data.get("context") or {}).get("but") or []]
    entries: dict[str, Entry] = {}
    for kind in ("flags", "signals"):
        for raw in data.get(kind) or []:
            entry_id = str(raw.get("id") or "")
            where = f"{path}: {kind[:-1]} {entry_id!r}"
            if entry_id not in levels:
                raise ValueError(f"{where}: not a flag or signal of {RED_FLAGS_FILE} (use the same ids)")
            if (kind == "flags") != (levels[entry_id] is not None):
                raise ValueError(f"{where}: is a {'signal' if kind == 'flags' else 'flag'} in {RED_FLAGS_FILE}")
            compiler = _Compiler(script, vocab, numbers, where)
            requires = tuple(tuple(str(m) for m in group) for group in raw.get("requires") or ())
            patterns = tuple(compiler.compile(str(p)) for p in raw.get("patterns") or ())
            if not patterns and not requires:
                raise ValueError(f"{where}: give patterns, requires, or both")
            entries[entry_id] = Entry(entry_id, levels[entry_id], patterns, requires,
                                      int(raw["min_days"]) if raw.get("min_days") is not None else None,
                                      bool(raw.get("post_resolution", False)))
    missing = sorted(i for i in levels if i not in entries)
    if missing:
        raise ValueError(f"{path}: every flag and signal of {RED_FLAGS_FILE} needs patterns here; missing {missing}")
    for entry in entries.values():
        for group in entry.requires:
            for member in group:
                if member not in entries:
                    raise ValueError(f"{path}: {entry.id} requires unknown flag or signal {member!r}")
    trap_compiler = _Compiler(script, vocab, numbers, f"{path}: traps")
    traps = tuple(trap_compiler.compile(str(t)) for t in data.get("traps") or ())
    context_raw = {key: list(value or []) for key, value in (data.get("context") or {}).items()}
    for other in data.get("context_from") or []:  # Chinese: people mix the scripts, so read both scripts' cues
        other_data = yaml.safe_load((directory / f"{other}.yml").read_text(encoding="utf-8")) or {}
        for key, value in (other_data.get("context") or {}).items():
            context_raw.setdefault(key, []).extend(v for v in value or [] if v not in context_raw[key])
    unknown = set(context_raw) - set(CONTEXT_KEYS)
    if unknown:
        raise ValueError(f"{path}: unknown context keys {sorted(unknown)}; use {', '.join(CONTEXT_KEYS)}")
    context = {key: _cue_regex(context_raw.get(key) or [], script) for key in CONTEXT_KEYS}
    examples = {str(k): {"positive": tuple(str(x) for x in (v or {}).get("positive") or ()),
                         "negative": tuple(str(x) for x in (v or {}).get("negative") or ())}
                for k, v in (data.get("examples") or {}).items()}
    for flag_id in examples:
        if flag_id not in entries:
            raise ValueError(f"{path}: examples for unknown flag {flag_id!r}")
    units = {normalise(str(k), script): int(v) for k, v in (data.get("units") or {}).items()}
    return Lexicon(language, script, entries, traps, context, numbers, units, int(data.get("window", 6)),
                   examples, path)
