"""Follow-ups in context: a short message that leans on the last answer resolves against its topic.

"how many calf raises exactly?" after the return-to-running answer asks for that answer's numbers, not for the
exercise card the words alone suggest; "what can I do about it?" after the symptoms asks for the management card.
Pure functions of the message, the last topic and a card's text (no Rasa here); the words are data
(followup_words.yml). The chosen topic's variant (type, severity) comes from what the user said about themselves:
the latest entities first, then the slots (tendinopathy_type, severity, duration).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

WORDS_FILE = Path(__file__).with_name("followup_words.yml")
TOKEN = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class Words:
    max_words: int
    points_back: frozenset[str]
    leads: tuple[str, ...]
    short_max_words: int
    short_leads: tuple[str, ...]
    manage: tuple[str, ...]
    describing_topics: frozenset[str]
    manage_topic: str
    fallback_share: float
    equivalents: dict[str, tuple[str, ...]]
    filler: frozenset[str]


@lru_cache(maxsize=1)
def words(path: Path = WORDS_FILE) -> Words:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        return Words(int(data["max_words"]), frozenset(data["points_back"]), tuple(data["leads"]),
                     int(data["short_max_words"]), tuple(data["short_leads"]),
                     tuple(data["manage"]), frozenset(data["describing_topics"]), str(data["manage_topic"]),
                     float(data["fallback_share"]),
                     {str(k): tuple(str(v) for v in vs) for k, vs in (data["equivalents"] or {}).items()},
                     frozenset(data["filler"]))
    except KeyError as missing:
        raise ValueError(f"{path}: missing key {missing}; see the comments in that file") from None


def tokens(text: str) -> list[str]:
    return TOKEN.findall((text or "").lower().replace("\u2019", "'"))


def _stem(word: str) -> str:
    """A plural or -ing/-ed form folded just enough to find it in an answer ("hops" in "hop", "raises")."""
    for suffix in ("ing", "es", "ed", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def is_followup(text: str) -> bool:
    """Short, and pointing back at what came before (or a very short question about a quantity)."""
    w, toks = words(), tokens(text)
    if not toks or len(toks) > w.max_words:
        return False
    joined = " ".join(toks)
    short = len(toks) <= w.short_max_words and any(joined.startswith(lead) for lead in w.short_leads)
    return short or any(t in w.points_back for t in toks) or any(joined.startswith(lead + " ") for lead in w.leads)


def asks_what_to_do(text: str) -> bool:
    joined = " ".join(tokens(text))
    return any(phrase in joined for phrase in words().manage)


def content_words(text: str) -> list[str]:
    w = words()
    return [t for t in tokens(text) if t not in w.filler and t not in w.points_back
            and not any(t == lead for lead in w.leads) and not t.isdigit()]


def resolve_topic(text: str, last_topic: str | None, classified: str | None,
                  card_text: Callable[[str], str], follow_ups: Callable[[str], list[str]] = lambda _: [],
                  card_question: Callable[[str], str] = lambda _: "") -> str | None:
    """The topic to answer: the classified one, unless the message is a follow-up of the last topic.

    - "what can I do about it?" after a describing topic (symptoms, causes ...): the management card;
      "what else helps?" after any other: the last card's first follow-up topic; else the last topic itself.
    - another short follow-up: the classified topic when the message names it (a content word in that card's
      question: "should I stretch it?"); else the last topic when every content word of the message is in its
      text ("how many hops?" after return to running), or when it has no content words ("how many exactly?");
      when nothing was classified (the fallback), when at least fallback_share of its content words are.
    """
    if not last_topic or not is_followup(text):
        return classified
    w = words()
    if asks_what_to_do(text):
        if last_topic in w.describing_topics:
            return w.manage_topic
        if "else" in tokens(text):
            return next(iter(follow_ups(last_topic)), last_topic)
        return last_topic
    content = content_words(text)
    if not content:
        return last_topic
    if classified and classified != last_topic:
        named = card_question(classified).lower()
        if any(_stem(word) in named for word in content):  # "should I stretch it?" names the stretching topic
            return classified
    body = card_text(last_topic).lower()
    found = sum(any(_stem(form) in body for form in (word, *w.equivalents.get(word, ()))) for word in content)
    if found == len(content) or (classified is None and found >= w.fallback_share * len(content)):
        return last_topic
    return classified


def severity_hint(latest_severity: str | None, severity_slot: str | None, duration_slot: str | None) -> str | None:
    """What the user said about how bad or how long: the latest word first, then the slots."""
    return latest_severity or severity_slot or duration_slot
