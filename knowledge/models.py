"""SQLAlchemy models of the built knowledge base (portable types: SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import declarative_base

# Its own Base: the knowledge base is a build artefact, apart from the clinic's operational tables.
Base = declarative_base()


class Source(Base):
    """One document of knowledge/sources/manifest.yml, with its full original text."""

    __tablename__ = "kb_sources"
    id = Column(String(64), primary_key=True)
    position = Column(Integer, nullable=False)
    file = Column(String(255), nullable=False)
    title = Column(Text, nullable=False)
    publisher = Column(String(255), nullable=False)
    kind = Column(String(32), nullable=False)
    sha256 = Column(String(64), nullable=False)
    text = Column(Text, nullable=False)


class Passage(Base):
    """A few sentences of a source; text == source.text[start_char:end_char]."""

    __tablename__ = "kb_passages"
    id = Column(String(96), primary_key=True)  # "<source id>#<position>"
    source_id = Column(String(64), ForeignKey("kb_sources.id"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    start_char = Column(Integer, nullable=False)
    end_char = Column(Integer, nullable=False)
    heading = Column(Text, nullable=False)
    text = Column(Text, nullable=False)
    promotional = Column(Boolean, nullable=False)  # marketing: stored, never retrieved as an answer


class Topic(Base):
    """A topic the bot answers: one NLU intent, one answer card."""

    __tablename__ = "kb_topics"
    id = Column(String(64), primary_key=True)  # the card id
    position = Column(Integer, nullable=False)
    intent = Column(String(64), nullable=False, unique=True)
    title = Column(Text, nullable=False)
    question = Column(Text, nullable=False)  # button title when offered as a follow-up


class AnswerCard(Base):
    """The curated answer to a topic."""

    __tablename__ = "kb_answer_cards"
    topic_id = Column(String(64), ForeignKey("kb_topics.id"), primary_key=True)
    file = Column(String(255), nullable=False)
    answer = Column(Text, nullable=False)
    detail = Column(Text, nullable=False)
    key_facts = Column(Text, nullable=False)  # JSON list of lowercase phrases the answer contains
    reviewed_by = Column(String(255), nullable=True)  # the clinician who reviewed the card; None = pending
    reviewed_on = Column(String(10), nullable=True)  # ISO date of that review


class CardVariant(Base):
    """Text used instead of (mode replace) or after (mode add) the answer for a type or severity."""

    __tablename__ = "kb_card_variants"
    id = Column(String(96), primary_key=True)  # "<topic>:<name>"
    topic_id = Column(String(64), ForeignKey("kb_topics.id"), nullable=False, index=True)
    name = Column(String(32), nullable=False)  # insertional | midportion | chronic | mild
    mode = Column(String(16), nullable=False)  # replace | add
    text = Column(Text, nullable=False)
    detail = Column(Text, nullable=True)  # replaces the detail text when given


class FollowUp(Base):
    """A topic offered after another one."""

    __tablename__ = "kb_follow_ups"
    topic_id = Column(String(64), ForeignKey("kb_topics.id"), primary_key=True)
    position = Column(Integer, primary_key=True)
    target_topic_id = Column(String(64), ForeignKey("kb_topics.id"), nullable=False)


class Policy(Base):
    """The clinic's own advice (knowledge/clinic_policy.yml): no document gives it, the clinic does."""

    __tablename__ = "kb_policies"
    id = Column(String(64), primary_key=True)
    text = Column(Text, nullable=False)
    basis = Column(Text, nullable=False)
    approved_by = Column(String(255), nullable=True)  # None until the clinic approves the wording
    approved_on = Column(String(10), nullable=True)


class Claim(Base):
    """A statement a card relies on: quoted from documents (citations), or a clinic policy entry."""

    __tablename__ = "kb_claims"
    id = Column(String(96), primary_key=True)  # "<topic>:<claim id in the card>"
    topic_id = Column(String(64), ForeignKey("kb_topics.id"), nullable=False, index=True)
    position = Column(Integer, nullable=False)
    text = Column(Text, nullable=False)
    policy_id = Column(String(64), ForeignKey("kb_policies.id"), nullable=True)  # set for clinic policy


class Sentence(Base):
    """One sentence of a card text, the claims that back it and how much of it their quotes cover."""

    __tablename__ = "kb_sentences"
    id = Column(String(128), primary_key=True)  # "<topic>:<section>:<n>"
    topic_id = Column(String(64), ForeignKey("kb_topics.id"), nullable=False, index=True)
    section = Column(String(32), nullable=False)  # answer | detail | <variant> | <variant>.detail | note
    position = Column(Integer, nullable=False)
    text = Column(Text, nullable=False)
    claim_ids = Column(Text, nullable=False)  # comma-separated kb_claims ids
    policy = Column(Boolean, nullable=False)  # the clinic's advice: shown as such, no document source
    coverage = Column(Float, nullable=False)  # share of its content words found in its quotes
    line = Column(Integer, nullable=False)  # where it is in the card file


class Disagreement(Base):
    """Where the clinic's sources differ on a topic; the sides are citations with role 'side'."""

    __tablename__ = "kb_disagreements"
    topic_id = Column(String(64), ForeignKey("kb_topics.id"), primary_key=True)
    note = Column(Text, nullable=False)


class Citation(Base):
    """A verbatim quote of a source backing a claim (role 'claim') or one side of a disagreement ('side')."""

    __tablename__ = "kb_citations"
    id = Column(String(128), primary_key=True)  # "<claim id>:q<n>" or "<topic>:side<n>"
    topic_id = Column(String(64), ForeignKey("kb_topics.id"), nullable=False, index=True)
    claim_id = Column(String(96), ForeignKey("kb_claims.id"), nullable=True, index=True)
    role = Column(String(16), nullable=False)  # claim | side
    position = Column(Integer, nullable=False)
    source_id = Column(String(64), ForeignKey("kb_sources.id"), nullable=False)
    passage_id = Column(String(96), ForeignKey("kb_passages.id"), nullable=True)
    quote = Column(Text, nullable=False)
    start_char = Column(Integer, nullable=False)  # where the quote is in the original source text
    end_char = Column(Integer, nullable=False)


ALL_MODELS = [Source, Passage, Policy, Topic, AnswerCard, CardVariant, FollowUp, Claim, Sentence, Disagreement,
              Citation]
