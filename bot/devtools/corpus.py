"""The evaluation corpora, read from their data files: the red-flag suite (tests/red_flags/suite.yml) as Case
objects, every NLU example, the e2e topic questions and the reviewed `soon` allow-list. For the tests, the
bench and the e2e runs."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.paths import PROJECT_ROOT
from bot.triage.flags import LEVELS

ROOT = PROJECT_ROOT
SUITE_FILE = PROJECT_ROOT / "tests" / "red_flags" / "suite.yml"
ALLOW_FILE = PROJECT_ROOT / "tests" / "red_flags" / "soon_in_topic_examples.yml"
TOPIC_QUESTIONS = PROJECT_ROOT / "tests" / "e2e" / "topic_questions.yml"
VALID_LEVELS = {*LEVELS, None}


@dataclass(frozen=True)
class Case:
    """One conversation: its user turns, the expected level of each turn, the flags that must be found."""
    id: str
    turns: tuple[str, ...]
    levels: tuple[str | None, ...]          # expected level per turn; the last one is the case's level
    flags: tuple[str, ...] = ()
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def level(self) -> str | None:
        return self.levels[-1]

    @property
    def positive(self) -> bool:
        return self.level is not None

    @property
    def text(self) -> str:
        return self.turns[-1]


def _level(value) -> str | None:
    level = None if value in (None, "none", "") else str(value)
    if level not in VALID_LEVELS:
        raise ValueError(f"{SUITE_FILE}: unknown level {value!r}")
    return level


def _case(raw: dict, positive: bool) -> Case:
    if "turns" in raw:
        turns = tuple(str(t) for t in raw["turns"])
    else:
        turns = (str(raw.get("text", "")) * int(raw.get("repeat", 1)),)
    level = _level(raw.get("level")) if positive else None
    if positive and level is None:
        raise ValueError(f"{SUITE_FILE}: positive case {raw.get('id')} needs a level")
    if "levels" in raw:
        levels = tuple(_level(v) for v in raw["levels"])
        if len(levels) != len(turns) or levels[-1] != level:
            raise ValueError(f"{SUITE_FILE}: {raw.get('id')}: levels must list one level per turn, ending with level")
    else:
        levels = tuple([None] * (len(turns) - 1) + [level])
    tags = tuple(raw.get("tags") or ()) + (
        ("multi_turn",) if len(turns) > 1 and "multi_turn" not in (raw.get("tags") or ()) else ())
    return Case(id=str(raw["id"]), turns=turns, levels=levels, flags=tuple(raw.get("flags") or ()), tags=tags)


def load_suite(path: Path = SUITE_FILE) -> list[Case]:
    """Every case of the suite: positives first, then negatives (expected level None)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    cases = [_case(raw, True) for raw in data.get("positives") or ()]
    cases += [_case(raw, False) for raw in data.get("negatives") or ()]
    ids = [c.id for c in cases]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"{path}: duplicate case ids {sorted(duplicates)}")
    return cases


def nlu_examples() -> list[tuple[str, str]]:
    """(intent, text) for every example of every intent in data/nlu/*.yml."""
    examples = []
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "intent" not in item:
                continue
            for line in str(item.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    examples.append((item["intent"], line.strip()[2:].strip()))
    return examples


def topic_questions() -> list[tuple[str, str]]:
    data = yaml.safe_load(TOPIC_QUESTIONS.read_text(encoding="utf-8")) or {}
    return [(f"topic_questions:{topic}", q) for topic, questions in data.items() for q in questions or []]


def allow_list() -> dict[str, dict]:
    entries = (yaml.safe_load(ALLOW_FILE.read_text(encoding="utf-8")) or {}).get("examples") or []
    for entry in entries:
        if not (entry.get("text") and entry.get("flag") and str(entry.get("reason") or "").strip()):
            raise ValueError(f"{ALLOW_FILE}: every entry needs text, flag and a one-line reason: {entry}")
    return {entry["text"]: entry for entry in entries}
