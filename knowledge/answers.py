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
from bot.nlp.vocabulary import canonical
from bot.settings import knowledge_database_url
from knowledge import models
from knowledge.cards import NOTE, compose
from knowledge.errors import KnowledgeBaseMissing
from knowledge.retrieve import IndexedPassage, PassageIndex, load_threshold
from knowledge.sources import display_text

RETRIEVED = "retrieved"
CLINIC_ADVICE = "The clinic's advice: "
MAX_ANSWER_WORDS = 120


@dataclass(frozen=True)
class SourceRef:
    id: str
    publisher: str
    title: str


@dataclass(frozen=True)
class ShownSentence:
    """One sentence of an answer and where it comes from."""

    text: str
    sources: tuple[str, ...]  # document ids of the quotes behind it; () for the clinic's advice
    clinic_policy: bool  # the clinic's own advice: shown as such, never under a document


@dataclass(frozen=True)
class Answer:
    topic: str  # card id, or "retrieved" for long-tail answers
    text: str  # what the documents say: plain text, <= ~120 words, no markup
    sources: list[SourceRef]  # exactly the documents behind the sentences shown (dedup, ordered)
    disagreement: str | None  # plain-text note naming both sides, or None
    follow_ups: list[tuple[str, str]]  # (button title, payload), payload = "/" + intent of the follow-up card
    has_more: bool  # True when a "tell me more" detail exists
    clinic_advice: tuple[str, ...] = ()  # the clinic's own advice (clinic_policy.yml), shown as such
    sentences: tuple[ShownSentence, ...] = ()  # every sentence shown, the note's included, with its sources

    @property
    def full_text(self) -> str:
        """The text and the clinic's advice as the runner reads them (without the note and sources line)."""
        advice = f"{CLINIC_ADVICE}{' '.join(self.clinic_advice)}" if self.clinic_advice else ""
        return "\n\n".join(part for part in (self.text, advice) if part)


class UnknownTopic(KeyError):
    """A topic that has no answer card."""

    def __str__(self) -> str:  # KeyError would print the repr of its argument
        return str(self.args[0]) if self.args else "unknown topic"


@dataclass(frozen=True)
class _Topic:
    id: str
    intent: str
    question: str
    sections: dict[str, tuple[ShownSentence, ...]]  # answer, detail, <variant>, <variant>.detail, note
    variants: dict[str, str]  # name -> mode (replace | add)
    follow_ups: tuple[str, ...]
    sides: tuple[tuple[str, str], ...]  # the disagreement's (source id, quote), or () when none


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
            variants: dict[str, dict[str, str]] = {}
            for v in session.scalars(select(models.CardVariant).order_by(models.CardVariant.id)):
                variants.setdefault(v.topic_id, {})[v.name] = v.mode
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
            sections: dict[str, dict[str, list[ShownSentence]]] = {}
            for row in session.scalars(
                select(models.Sentence).order_by(models.Sentence.topic_id, models.Sentence.section,
                                                 models.Sentence.position)
            ):
                cited = tuple(dict.fromkeys(
                    source for claim_id in row.claim_ids.split(",") for source in claim_sources.get(claim_id, ())
                ))
                sections.setdefault(row.topic_id, {}).setdefault(row.section, []).append(
                    ShownSentence(row.text, cited, row.policy))
            topics = {}
            for t in session.scalars(select(models.Topic).order_by(models.Topic.position)):
                topics[t.id] = _Topic(
                    t.id,
                    t.intent,
                    t.question,
                    {name: tuple(found) for name, found in sections.get(t.id, {}).items()},
                    variants.get(t.id, {}),
                    tuple(follow_ups.get(t.id, ())),
                    tuple((source, quote) for _, source, quote in sorted(sides.get(t.id, []))),
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
    """Every topic with an answer card, in card id order (the cards are the topics: bot/topics.py)."""
    return list(_kb().topics)


def normalise_type(value: str | None) -> str | None:
    """'insertion', 'at the heel bone' -> 'insertional'; 'mid portion', 'mid-portion' -> 'midportion'
    (the synonym table, bot/nlp/vocabulary.yml)."""
    return canonical("tendinopathy_type", value)


def normalise_severity(value: str | None) -> str | None:
    """'long-term', 'for months' -> 'chronic'; 'acute', 'new', 'a few days' -> 'mild' (bot/nlp/vocabulary.yml)."""
    return canonical("severity", value)


def _topic(topic: str) -> _Topic:
    kb = _kb()
    if topic not in kb.topics:
        raise UnknownTopic(f"unknown topic {topic!r}: use one of {sorted(kb.topics)} (one per card in knowledge/cards)")
    return kb.topics[topic]


def _answer(t: _Topic, shown: list[ShownSentence], with_quotes: bool, has_more: bool) -> Answer:
    """An answer of the sentences shown (plus the note): its sources are exactly theirs."""
    kb = _kb()
    note = list(t.sections.get(NOTE, ()))
    everything = [*shown, *note]
    cited = dict.fromkeys(source for s in everything for source in s.sources)
    return Answer(
        topic=t.id,
        text=" ".join(s.text for s in shown if not s.clinic_policy),
        sources=[kb.sources[source] for source in cited],
        disagreement=_disagreement_text(t, note, with_quotes),
        follow_ups=_follow_ups(t),
        has_more=has_more,
        clinic_advice=tuple(s.text for s in shown if s.clinic_policy),
        sentences=tuple(everything),
    )


def _disagreement_text(t: _Topic, note: list[ShownSentence], with_quotes: bool = False) -> str | None:
    """The note naming both sides by publisher; 'tell me more' adds each side's verbatim words."""
    if not note:
        return None
    kb = _kb()
    if with_quotes:
        said = "; ".join(
            f"{kb.sources[source].publisher}: \u201c{' '.join(quote.split())}\u201d" for source, quote in t.sides
        )
    else:
        said = "; ".join(dict.fromkeys(kb.sources[source].publisher for source, _ in t.sides))
    return f"{' '.join(s.text for s in note)} ({said})"


def _follow_ups(t: _Topic) -> list[tuple[str, str]]:
    kb = _kb()
    return [(kb.topics[target].question, f"/{kb.topics[target].intent}") for target in t.follow_ups[:2]]


def answer_for_topic(topic: str, tendinopathy_type: str | None = None, severity: str | None = None) -> Answer:
    """The card's answer, adapted to the tendinopathy type and severity when the card has variants."""
    t = _topic(topic)
    variants = {name: (mode, t.sections.get(name, ())) for name, mode in t.variants.items()}
    shown, _ = compose(t.sections["answer"], variants, normalise_type(tendinopathy_type), normalise_severity(severity))
    return _answer(t, shown, with_quotes=False, has_more=bool(t.sections.get("detail")))


def more_for_topic(topic: str, tendinopathy_type: str | None = None) -> Answer:
    """'Tell me more': the card's detail text (the type's own detail when the card has one)."""
    t = _topic(topic)
    kind = normalise_type(tendinopathy_type)
    shown = t.sections.get(f"{kind}.detail") or t.sections["detail"]
    return _answer(t, list(shown), with_quotes=True, has_more=False)


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
