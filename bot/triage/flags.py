"""Load and check the red-flag data file (bot/triage/red_flags.yml): flags, signals, traps, vocabulary."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from pathlib import Path

import yaml

RED_FLAGS_FILE = Path(__file__).with_name("red_flags.yml")


class Level(str, Enum):
    """The triage levels, most severe first. A str Enum: `Level.SOON == "soon"`, and it is stored as its value."""
    EMERGENCY = "emergency"   # call the emergency number now
    SAME_DAY = "same_day"     # get seen today
    SOON = "soon"             # book an assessment (and the answer to the question)


LEVELS: tuple[str, ...] = tuple(level.value for level in Level)
URGENT_LEVELS: tuple[str, ...] = (Level.EMERGENCY.value, Level.SAME_DAY.value)  # the ones that page staff at once
CLASSIFIER_FLAG = "classifier"  # the flag id used when only the intent classifier saw a red flag


@dataclass(frozen=True)
class Flag:
    id: str
    level: str | None              # None for a signal (a building block of composite flags)
    reason: str = ""
    source: str = ""
    patterns: tuple[str, ...] = ()
    requires: tuple[tuple[str, ...], ...] = ()
    validator: str | None = None
    post_resolution: bool = False
    generic: bool = False          # a signal too common to show, when dismissed, that a message reports nothing
    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()


@dataclass(frozen=True)
class Trap:
    pattern: str
    unless: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class FlagFile:
    vocab: dict[str, tuple[str, ...]]
    flags: tuple[Flag, ...]
    signals: tuple[Flag, ...]
    traps: tuple[Trap, ...]
    non_reports: tuple[str, ...] = ()   # evidence that a message reports nothing ("no pop", "my achilles was fine")

    def flag(self, flag_id: str) -> Flag:
        for flag in self.flags:
            if flag.id == flag_id:
                return flag
        raise KeyError(f"no red flag {flag_id!r} in {RED_FLAGS_FILE}")


def level_rank(level: str | None) -> int:
    """0 for emergency, 1 for same_day, 2 for soon, 3 for no level (sorting: most severe first)."""
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def _entry(raw: dict, path: Path, is_signal: bool) -> Flag:
    where = f"{path}: {'signal' if is_signal else 'flag'} {raw.get('id', '?')!r}"
    if not raw.get("id"):
        raise ValueError(f"{where}: every entry needs an id")
    level = None if is_signal else raw.get("level")
    if not is_signal:
        if level not in LEVELS:
            raise ValueError(f"{where}: level must be one of {', '.join(LEVELS)}")
        for key in ("reason", "source"):
            if not str(raw.get(key) or "").strip():
                raise ValueError(f"{where}: add a {key} (the clinic document or NHS/NICE page it comes from)")
    if not raw.get("patterns") and not raw.get("requires"):
        raise ValueError(f"{where}: give patterns, requires, or both")
    examples = raw.get("examples") or {}
    if not is_signal and (not examples.get("positive") or not examples.get("negative")):
        raise ValueError(f"{where}: add positive and negative example phrasings")
    return Flag(
        id=str(raw["id"]),
        level=level,
        reason=str(raw.get("reason") or "").strip(),
        source=str(raw.get("source") or "").strip(),
        patterns=tuple(str(p) for p in raw.get("patterns") or ()),
        requires=tuple(tuple(str(i) for i in group) for group in raw.get("requires") or ()),
        validator=raw.get("validator"),
        post_resolution=bool(raw.get("post_resolution", False)),
        generic=bool(raw.get("generic", False)),
        positive=tuple(str(e) for e in examples.get("positive") or ()),
        negative=tuple(str(e) for e in examples.get("negative") or ()),
    )


@lru_cache(maxsize=4)
def load_flag_file(path: Path = RED_FLAGS_FILE) -> FlagFile:
    """Parse and check the data file; errors name the file and the entry to fix."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if "levels" in data and tuple(data["levels"] or ()) != LEVELS:
        raise ValueError(f"{path}: levels must be {list(LEVELS)} (bot/triage/flags.py: Level), most severe first")
    vocab = {str(k): tuple(str(w).lower() for w in v) for k, v in (data.get("vocab") or {}).items()}
    flags = tuple(_entry(raw, path, False) for raw in data.get("flags") or ())
    signals = tuple(_entry(raw, path, True) for raw in data.get("signals") or ())
    traps = []
    for raw in data.get("traps") or ():
        if isinstance(raw, str):
            traps.append(Trap(raw))
        else:
            traps.append(Trap(str(raw["pattern"]), frozenset(str(w).lower() for w in raw.get("unless") or ())))
    known = {f.id for f in flags} | {s.id for s in signals}
    if len(known) != len(flags) + len(signals):
        raise ValueError(f"{path}: flag and signal ids must be unique")
    for entry in flags + signals:
        for group in entry.requires:
            for member in group:
                if member not in known:
                    raise ValueError(f"{path}: {entry.id} requires unknown flag or signal {member!r}")
    non_reports = tuple(str(p) for p in data.get("non_reports") or ())
    return FlagFile(vocab=vocab, flags=flags, signals=signals, traps=tuple(traps), non_reports=non_reports)
