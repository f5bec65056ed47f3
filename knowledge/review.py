"""What the clinic reviews: every card with its review status, its sentences and what backs each of them.

Read from the built knowledge base (the same rows the bot answers from), for the staff console's Cards page
and for reports. Read-only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.db import engine_for
from bot.settings import knowledge_database_url
from knowledge import models
from knowledge.errors import KnowledgeBaseMissing


@dataclass(frozen=True)
class Backing:
    """One thing a sentence rests on: a document quote, or the clinic's policy entry."""

    source: str  # a document's publisher, or "The clinic's advice"
    text: str
    policy_id: str | None = None
    approved: str | None = None  # "approved by X on 2026-12-01", or None while pending


@dataclass(frozen=True)
class ReviewSentence:
    section: str
    text: str
    line: int
    coverage: float
    clinic_policy: bool
    backing: tuple[Backing, ...]


@dataclass(frozen=True)
class CardReview:
    id: str
    title: str
    file: str
    reviewed_by: str | None
    reviewed_on: str | None
    sentences: tuple[ReviewSentence, ...]

    @property
    def sources(self) -> list[str]:
        return list(dict.fromkeys(b.source for s in self.sentences for b in s.backing if not b.policy_id))

    @property
    def policy_sentences(self) -> int:
        return sum(s.clinic_policy for s in self.sentences)


@dataclass(frozen=True)
class PolicyReview:
    id: str
    text: str
    basis: str
    approved_by: str | None
    approved_on: str | None


def card_reviews(database_url: str | None = None) -> tuple[list[CardReview], list[PolicyReview]]:
    """Every card (in topic order) with its sentences and their backing, and the clinic's policy entries."""
    from knowledge.build import is_built

    url = database_url or knowledge_database_url()
    if not is_built(url):
        raise KnowledgeBaseMissing("The knowledge base is not built: run `make kb`.")
    try:
        with Session(engine_for(url), future=True) as session:
            publishers = {s.id: s.publisher for s in session.scalars(select(models.Source))}
            policies = {
                p.id: PolicyReview(p.id, p.text, p.basis, p.approved_by, p.approved_on)
                for p in session.scalars(select(models.Policy).order_by(models.Policy.id))
            }
            quotes: dict[str, list[Backing]] = {}
            for c in session.scalars(select(models.Citation).where(models.Citation.role == "claim")
                                     .order_by(models.Citation.claim_id, models.Citation.position)):
                quotes.setdefault(c.claim_id, []).append(Backing(publishers[c.source_id], c.quote))
            claims = {c.id: c for c in session.scalars(select(models.Claim))}
            sentences: dict[str, list[ReviewSentence]] = {}
            for row in session.scalars(select(models.Sentence).order_by(models.Sentence.topic_id,
                                                                         models.Sentence.line)):
                backing: list[Backing] = []
                for claim_id in row.claim_ids.split(","):
                    policy_id = claims[claim_id].policy_id
                    if policy_id:
                        p = policies[policy_id]
                        approved = f"approved by {p.approved_by} on {p.approved_on}" if p.approved_by else None
                        backing.append(Backing("The clinic's advice", p.text, policy_id, approved))
                    else:
                        backing.extend(quotes.get(claim_id, ()))
                sentences.setdefault(row.topic_id, []).append(ReviewSentence(
                    row.section, row.text, row.line, row.coverage, row.policy, tuple(backing)))
            cards = {c.topic_id: c for c in session.scalars(select(models.AnswerCard))}
            reviews = [
                CardReview(t.id, t.title, cards[t.id].file, cards[t.id].reviewed_by, cards[t.id].reviewed_on,
                           tuple(sentences.get(t.id, ())))
                for t in session.scalars(select(models.Topic).order_by(models.Topic.position))
            ]
    except SQLAlchemyError as exc:
        raise KnowledgeBaseMissing(f"The knowledge base cannot be read ({exc.__class__.__name__}): run `make kb`.") \
            from exc
    return reviews, list(policies.values())
