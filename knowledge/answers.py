"""The API the actions call: grounded answers for a topic or a question, read from the built KB."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.db import engine_for
from bot.settings import knowledge_database_url
from knowledge import models
from knowledge.cards import compose
from knowledge.errors import KnowledgeBaseMissing
from knowledge.retrieve import IndexedPassage, PassageIndex, load_threshold
from knowledge.sources import display_text

RETRIEVED = "retrieved"
MAX_ANSWER_WORDS = 120


@dataclass(frozen=True)
class SourceRef:
    id: str
    publisher: str
    title: str


@dataclass(frozen=True)
class Answer:
    topic: str  # card id, or "retrieved" for long-tail answers
    text: str  # plain text, <= ~120 words, no markup
    sources: list[SourceRef]  # the sources actually cited by this text's claims (dedup, ordered)
    disagreement: str | None  # plain-text note naming both sides, or None
    follow_ups: list[tuple[str, str]]  # (button title, payload), payload = "/" + intent of the follow-up card
    has_more: bool  # True when a "tell me more" detail exists


class UnknownTopic(KeyError):
    """A topic that has no answer card."""

    def __str__(self) -> str:  # KeyError would print the repr of its argument
        return str(self.args[0]) if self.args else "unknown topic"


@dataclass(frozen=True)
class _Topic:
    id: str
    intent: str
    question: str
    answer: str
    detail: str
    variants: dict[str, tuple[str, str, str | None]]  # name -> (mode, text, detail)
    follow_ups: tuple[str, ...]
    claims: tuple[tuple[frozenset[str], tuple[str, ...]], ...]  # (sections, source ids)
    disagreement: tuple[str, tuple[tuple[str, str], ...]] | None  # (note, ((source id, quote), ...))


@dataclass(frozen=True)
class _KnowledgeBase:
    topics: dict[str, _Topic]
    sources: dict[str, SourceRef]
    index: PassageIndex
    passage_topics: dict[str, tuple[str, ...]]  # passage id -> topics whose quotes sit in it, most first
    threshold: float


_lock = threading.Lock()


def _missing(url: str, why: str) -> KnowledgeBaseMissing:
    safe = make_url(url).render_as_string(hide_password=True)
    return KnowledgeBaseMissing(
        f"The knowledge base at {safe} {why}: run `make kb` (or `python -m knowledge.build`) to build it."
    )


@lru_cache(maxsize=4)
def _load(url: str) -> _KnowledgeBase:
    """Everything answers need, read once per process and database URL."""
    from knowledge.build import is_built

    if not is_built(url):
        raise _missing(url, "is missing or empty")
    try:
        with Session(engine_for(url), future=True) as session:
            sources = {
                s.id: SourceRef(s.id, s.publisher, s.title)
                for s in session.scalars(select(models.Source).order_by(models.Source.position))
            }
            passages = session.scalars(
                select(models.Passage)
                .where(models.Passage.promotional.is_(False))
                .order_by(models.Passage.source_id, models.Passage.position)
            ).all()
            indexed = [IndexedPassage(p.id, p.source_id, p.heading, p.text) for p in passages]
            cards = {c.topic_id: c for c in session.scalars(select(models.AnswerCard))}
            variants: dict[str, dict[str, tuple[str, str, str | None]]] = {}
            for v in session.scalars(select(models.CardVariant).order_by(models.CardVariant.id)):
                variants.setdefault(v.topic_id, {})[v.name] = (v.mode, v.text, v.detail)
            follow_ups: dict[str, list[str]] = {}
            for f in session.scalars(
                select(models.FollowUp).order_by(models.FollowUp.topic_id, models.FollowUp.position)
            ):
                follow_ups.setdefault(f.topic_id, []).append(f.target_topic_id)
            citations = session.scalars(
                select(models.Citation).order_by(models.Citation.topic_id, models.Citation.id)
            ).all()
            claim_sources: dict[str, list[str]] = {}
            sides: dict[str, list[tuple[int, str, str]]] = {}
            passage_counts: dict[str, Counter[str]] = {}
            for c in citations:
                if c.role == "claim":
                    claim_sources.setdefault(c.claim_id, []).append(c.source_id)
                else:
                    sides.setdefault(c.topic_id, []).append((c.position, c.source_id, c.quote))
                if c.passage_id:
                    passage_counts.setdefault(c.passage_id, Counter())[c.topic_id] += 1
            claims: dict[str, list[tuple[frozenset[str], tuple[str, ...]]]] = {}
            for claim in session.scalars(
                select(models.Claim).order_by(models.Claim.topic_id, models.Claim.position)
            ):
                claims.setdefault(claim.topic_id, []).append(
                    (frozenset(claim.sections.split(",")), tuple(claim_sources.get(claim.id, ())))
                )
            notes = {d.topic_id: d.note for d in session.scalars(select(models.Disagreement))}
            topics = {}
            for t in session.scalars(select(models.Topic).order_by(models.Topic.position)):
                card = cards[t.id]
                disagreement = None
                if t.id in notes:
                    disagreement = (notes[t.id], tuple((s, q) for _, s, q in sorted(sides.get(t.id, []))))
                topics[t.id] = _Topic(
                    t.id,
                    t.intent,
                    t.question,
                    card.answer,
                    card.detail,
                    variants.get(t.id, {}),
                    tuple(follow_ups.get(t.id, ())),
                    tuple(claims.get(t.id, ())),
                    disagreement,
                )
    except SQLAlchemyError as exc:
        raise _missing(url, f"cannot be read ({str(getattr(exc, 'orig', exc)).splitlines()[0]})") from exc
    passage_topics = {
        pid: tuple(t for t, _ in counts.most_common()) for pid, counts in passage_counts.items()
    }
    return _KnowledgeBase(topics, sources, PassageIndex(indexed), passage_topics, load_threshold())


def _kb() -> _KnowledgeBase:
    with _lock:
        return _load(knowledge_database_url())


def reset_cache() -> None:
    """Forget the loaded knowledge base (after a rebuild, or in tests that switch databases)."""
    _load.cache_clear()


def topic_question(topic: str) -> str:
    """The topic's question as a button title, e.g. 'Which exercises help?'."""
    return _topic(topic).question


def known_topics() -> list[str]:
    """Every topic with an answer card, in the order of bot/topics.py."""
    return list(_kb().topics)


def normalise_type(value: str | None) -> str | None:
    """'insertion', 'at the heel bone' -> 'insertional'; 'mid portion', 'mid-portion' -> 'midportion'."""
    if not value:
        return None
    text = value.lower().replace("-", " ").replace("_", " ")
    if "insert" in text or "heel bone" in text or "attach" in text:
        return "insertional"
    if "mid" in text or "middle" in text:
        return "midportion"
    return None


_CHRONIC = (
    "chronic",
    "long term",
    "longterm",
    "long standing",
    "longstanding",
    "month",
    "year",
    "persistent",
    "ongoing",
    "recurring",
    "keeps coming back",
    "for ages",
)
_MILD = (
    "mild",
    "acute",
    "new",
    "recent",
    "just started",
    "day",
    "slight",
    "early",
    "minor",
    "week",
    "niggle",
)


def normalise_severity(value: str | None) -> str | None:
    """'long-term', 'for months' -> 'chronic'; 'acute', 'new', 'a few days' -> 'mild'."""
    if not value:
        return None
    text = value.lower().replace("-", " ").replace("_", " ")
    if any(word in text for word in _CHRONIC):
        return "chronic"
    if any(word in text for word in _MILD):
        return "mild"
    return None


def _topic(topic: str) -> _Topic:
    kb = _kb()
    if topic not in kb.topics:
        raise UnknownTopic(f"unknown topic {topic!r}: use one of {sorted(kb.topics)} (see bot/topics.py)")
    return kb.topics[topic]


def _sources_for(t: _Topic, sections: list[str]) -> list[SourceRef]:
    kb = _kb()
    wanted = set(sections)
    ordered: list[str] = []
    for claim_sections, source_ids in t.claims:
        if claim_sections & wanted:
            ordered.extend(source_ids)
    if t.disagreement:
        ordered.extend(source for source, _ in t.disagreement[1])
    return [kb.sources[s] for s in dict.fromkeys(ordered)]


def _disagreement_text(t: _Topic, with_quotes: bool = False) -> str | None:
    """The note naming both sides by publisher; 'tell me more' adds each side's verbatim words."""
    if not t.disagreement:
        return None
    kb = _kb()
    note, sides = t.disagreement
    if with_quotes:
        said = "; ".join(
            f"{kb.sources[source].publisher}: \u201c{' '.join(quote.split())}\u201d" for source, quote in sides
        )
    else:
        said = "; ".join(dict.fromkeys(kb.sources[source].publisher for source, _ in sides))
    return f"{note} ({said})"


def _follow_ups(t: _Topic) -> list[tuple[str, str]]:
    kb = _kb()
    return [(kb.topics[target].question, f"/{kb.topics[target].intent}") for target in t.follow_ups[:2]]


def answer_for_topic(topic: str, tendinopathy_type: str | None = None, severity: str | None = None) -> Answer:
    """The card's answer, adapted to the tendinopathy type and severity when the card has variants."""
    t = _topic(topic)
    modes = {name: (mode, text) for name, (mode, text, _) in t.variants.items()}
    text, sections = compose(t.answer, modes, normalise_type(tendinopathy_type), normalise_severity(severity))
    return Answer(
        topic=t.id,
        text=text,
        sources=_sources_for(t, sections),
        disagreement=_disagreement_text(t),
        follow_ups=_follow_ups(t),
        has_more=bool(t.detail),
    )


def more_for_topic(topic: str, tendinopathy_type: str | None = None) -> Answer:
    """'Tell me more': the card's detail text (the type's own detail when the card has one)."""
    t = _topic(topic)
    kind = normalise_type(tendinopathy_type)
    variant = t.variants.get(kind or "")
    if variant and variant[2]:
        text, sections = variant[2], [f"{kind}.detail"]
    else:
        text, sections = t.detail, ["detail"]
    return Answer(
        topic=t.id,
        text=text,
        sources=_sources_for(t, sections),
        disagreement=_disagreement_text(t, with_quotes=True),
        follow_ups=_follow_ups(t),
        has_more=False,
    )


def _trim(text: str, max_words: int) -> str:
    """At most max_words, cut at a sentence end when possible."""
    words = text.split()
    if len(words) <= max_words:
        return text
    cut = " ".join(words[:max_words])
    end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
    return cut[: end + 1] if end > len(cut) // 2 else cut + " \u2026"


def answer_for_question(question: str) -> Answer | None:
    """The clinic's own words for a question no card covers: the best 1-2 passages, or None if none fit."""
    kb = _kb()
    hits = [hit for hit in kb.index.search(question, k=2) if hit.score >= kb.threshold]
    if not hits:
        return None
    parts: list[str] = []
    used: list[str] = []
    budget = MAX_ANSWER_WORDS
    for hit in hits:
        source = kb.sources[hit.passage.source_id]
        same = bool(used) and used[-1] == source.id
        part = (
            display_text(hit.passage.text)
            if same
            else f"From {source.publisher}: {display_text(hit.passage.text)}"
        )
        if parts and len(part.split()) > budget:
            break
        part = _trim(part, budget)
        if same:
            parts[-1] = f"{parts[-1]} {part}"
        else:
            parts.append(part)
        used.append(source.id)
        budget -= len(part.split())
    topics = kb.passage_topics.get(hits[0].passage.id, ())
    follow_ups = [(kb.topics[t].question, f"/{kb.topics[t].intent}") for t in topics[:2] if t in kb.topics]
    return Answer(
        topic=RETRIEVED,
        text="\n\n".join(parts),
        sources=[kb.sources[s] for s in dict.fromkeys(used)],
        disagreement=None,
        follow_ups=follow_ups,
        has_more=False,
    )
