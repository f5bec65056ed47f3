"""Build the knowledge base: ingest sources, split passages, check every quote and every card sentence, store
it all in SQL."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from tqdm import tqdm

from bot.db import make_engine
from bot.fingerprint import fingerprint, is_current, write_stamp
from bot.locks import file_lock
from bot.paths import BUILD_DIR, PROJECT_ROOT
from bot.settings import knowledge_database_url
from knowledge import models
from knowledge.cards import CardSpec, Sentence, load_cards, text_of
from knowledge.errors import GroundingError, KnowledgeError
from knowledge.grounding import NormalisedText, QuoteMatch, normalise
from knowledge.policy import POLICY_FILE, Policy, load_policies
from knowledge.sentences import (
    SentenceCheck,
    SentenceGrounder,
    default_grounder,
    load_threshold,
    pipeline_inputs,
    split_sentences,
)
from knowledge.sources import PassageSpan, SourceDoc, load_manifest, split_passages

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCES_DIR = PACKAGE_DIR / "sources"
CARDS_DIR = PACKAGE_DIR / "cards"
STAMP_FILE = BUILD_DIR / "knowledge.fingerprint"
BUILD_CODE = [
    PACKAGE_DIR / name
    for name in (
        "build.py",
        "sources.py",
        "cards.py",
        "grounding.py",
        "models.py",
        "yaml_lines.py",
        "errors.py",
        "policy.py",
    )
] + [PROJECT_ROOT / "bot" / "topics.py"]  # which intent each card is (validated by the card loader)


@dataclass(frozen=True)
class BuildReport:
    sources: int
    passages: int
    cards: int
    claims: int
    citations: int
    sentences: int = 0


@dataclass(frozen=True)
class SentenceResult:
    """One card sentence, where it is, what backs it and how well (reports and the staff console use it)."""

    section: str
    position: int
    sentence: Sentence
    sources: tuple[str, ...]  # document ids of its claims' quotes; () for the clinic's advice
    check: SentenceCheck


def sentence_backing(card: CardSpec, sentence: Sentence, policies: Mapping[str, Policy]) -> list[str]:
    """The texts a sentence may rest on: its claims' quotes, or the clinic policy entries it cites."""
    texts: list[str] = []
    for claim_id in sentence.claims:
        claim = card.claim(claim_id)
        texts.extend([policies[claim.policy].text] if claim.policy else [q.quote for q in claim.quotes])
    return texts


def ground_sentences(card: CardSpec, policies: Mapping[str, Policy], grounder: SentenceGrounder | None = None,
                     threshold: float | None = None) -> list[SentenceResult]:
    """Check every sentence of a card against what it links to; GroundingError names file, line, sentence."""
    grounder = grounder or default_grounder()
    threshold = load_threshold() if threshold is None else threshold
    results = []
    for section, sentences in card.sections().items():
        for position, sentence in enumerate(sentences):
            backing = sentence_backing(card, sentence, policies)
            check = grounder.check(sentence.text, backing)
            problem = None
            if sentence.policy and normalise(sentence.text) not in {
                normalise(part) for text in backing for part in split_sentences(text)
            }:
                problem = ("is not the approved wording of the clinic policy it cites: copy a sentence of its "
                           "`text` from knowledge/clinic_policy.yml word for word")
            elif check.missing_quantities:
                problem = f"states {', '.join(check.missing_quantities)}, which no linked quote states"
            elif check.missing_terms:
                problem = f"names {', '.join(check.missing_terms)}, which no linked quote names"
            elif check.coverage < threshold:
                problem = (f"has only {check.coverage:.0%} of its content words in its quotes (threshold "
                           f"{threshold:.0%}; not found: {', '.join(check.uncovered)})")
            if problem:
                raise GroundingError(f"the {section} sentence {sentence.text!r} {problem}: link the claim that "
                                     "says it, or say only what the quotes say", card.path, sentence.line)
            sources = tuple(dict.fromkeys(q.source for c in sentence.claims for q in card.claim(c).quotes))
            results.append(SentenceResult(section, position, sentence, sources, check))
    return results


def _passage_at(passages: list[PassageSpan], match: QuoteMatch) -> str | None:
    """The passage holding the start of a quote (None if it sits in text the cleaning dropped)."""
    for passage in passages:
        if passage.start <= match.start < passage.end:
            return passage.id
    return None


def ground(
    card: CardSpec,
    docs: Mapping[str, SourceDoc],
    texts: Mapping[str, NormalisedText],
    quote_source: str,
    quote: str,
    line: int,
) -> QuoteMatch:
    """Find a card's quote in its source, or raise GroundingError naming the card file and line."""
    match = texts[quote_source].find(quote)
    if match is None:
        raise GroundingError(
            f"quote not found verbatim in source {quote_source!r} ({docs[quote_source].file}): {quote!r}; "
            "copy the words exactly from the source (only whitespace and curly quotes/dashes may differ)",
            card.path,
            line,
        )
    return match


def build(
    sources_dir: Path = SOURCES_DIR,
    cards_dir: Path = CARDS_DIR,
    database_url: str | None = None,
    *,
    progress: bool = True,
    policy_file: Path = POLICY_FILE,
) -> BuildReport:
    """Validate sources and cards, then replace the knowledge base at database_url in one transaction."""
    database_url = database_url or knowledge_database_url()
    docs = load_manifest(sources_dir)
    forbidden = [name for doc in docs for name in doc.names]
    policies = load_policies(policy_file)
    cards = load_cards(cards_dir, [doc.id for doc in docs], forbidden, policies)
    grounder, threshold = default_grounder(), load_threshold()
    by_id = {doc.id: doc for doc in docs}
    texts = {doc.id: NormalisedText(doc.text) for doc in docs}

    rows: list[object] = [
        models.Policy(id=p.id, text=p.text, basis=p.basis, approved_by=p.approved_by,
                      approved_on=p.approved_on.isoformat() if p.approved_on else None)
        for p in policies.values()
    ]
    bar = tqdm(
        total=len(docs) + len(cards),
        desc="knowledge base",
        unit="file",
        disable=not progress,
        file=sys.stderr,
    )
    passages_of: dict[str, list[PassageSpan]] = {}
    for doc in docs:
        bar.set_postfix_str(doc.file)
        passages = split_passages(doc)
        if not passages:
            raise KnowledgeError(
                "no passages left after cleaning: is this the article's text?", sources_dir / doc.file
            )
        passages_of[doc.id] = passages
        rows.append(
            models.Source(
                id=doc.id,
                position=doc.position,
                file=doc.file,
                title=doc.title,
                publisher=doc.publisher,
                kind=doc.kind,
                text=doc.text,
                sha256=hashlib.sha256(doc.text.encode()).hexdigest(),
            )
        )
        rows.extend(
            models.Passage(
                id=p.id,
                source_id=p.source_id,
                position=p.position,
                start_char=p.start,
                end_char=p.end,
                heading=p.heading,
                text=p.text,
                promotional=p.promotional,
            )
            for p in passages
        )
        bar.update()

    cards.sort(key=lambda c: c.id)  # the topics' order everywhere: card id (bot/topics.py reads them so too)
    claim_count = citation_count = sentence_count = 0
    topic_rows, card_rows = [], []
    for position, card in enumerate(cards):
        bar.set_postfix_str(card.path.name)

        def citation(row_id: str, claim_id: str | None, role: str, index: int, source: str, quote: str,
                     line: int, card: CardSpec = card) -> models.Citation:
            """A quote checked against its source (the grounding check raises if it is not there)."""
            match = ground(card, by_id, texts, source, quote, line)
            return models.Citation(id=row_id, topic_id=card.id, claim_id=claim_id, role=role, position=index,
                                   source_id=source, quote=quote, start_char=match.start, end_char=match.end,
                                   passage_id=_passage_at(passages_of[source], match))

        topic_rows.append(
            models.Topic(
                id=card.id, position=position, intent=card.intent, title=card.title, question=card.question
            )
        )
        card_rows.append(
            models.AnswerCard(
                topic_id=card.id,
                file=card.path.name,
                answer=text_of(card.answer),
                detail=text_of(card.detail),
                key_facts=json.dumps(list(card.key_facts)),
                reviewed_by=card.reviewed_by,
                reviewed_on=card.reviewed_on.isoformat() if card.reviewed_on else None,
            )
        )
        card_rows.extend(
            models.CardVariant(
                id=f"{card.id}:{v.name}",
                topic_id=card.id,
                name=v.name,
                mode=v.mode,
                text=text_of(v.sentences),
                detail=text_of(v.detail) if v.detail else None,
            )
            for v in card.variants
        )
        card_rows.extend(
            models.FollowUp(topic_id=card.id, position=i, target_topic_id=target)
            for i, target in enumerate(card.follow_ups)
        )
        for c_index, claim in enumerate(card.claims):
            claim_id = f"{card.id}:{claim.id}"
            card_rows.append(
                models.Claim(
                    id=claim_id,
                    topic_id=card.id,
                    position=c_index,
                    text=policies[claim.policy].text if claim.policy else claim.text,
                    policy_id=claim.policy,
                )
            )
            claim_count += 1
            for q_index, quote in enumerate(claim.quotes):
                card_rows.append(citation(f"{claim_id}:q{q_index}", claim_id, "claim", q_index, quote.source,
                                          quote.quote, quote.line))
                citation_count += 1
        for result in ground_sentences(card, policies, grounder, threshold):
            card_rows.append(models.Sentence(
                id=f"{card.id}:{result.section}:{result.position}", topic_id=card.id, section=result.section,
                position=result.position, text=result.sentence.text,
                claim_ids=",".join(f"{card.id}:{c}" for c in result.sentence.claims),
                policy=result.sentence.policy, coverage=result.check.coverage, line=result.sentence.line))
            sentence_count += 1
        if card.disagreement:
            card_rows.append(models.Disagreement(topic_id=card.id, note=text_of(card.disagreement.note)))
            for s_index, side in enumerate(card.disagreement.sides):
                card_rows.append(citation(f"{card.id}:side{s_index}", None, "side", s_index, side.source,
                                          side.quote, side.line))
                citation_count += 1
        bar.update()
    bar.close()

    engine = make_engine(database_url)
    try:
        _prepare_schema(engine)
        with Session(engine, future=True) as session, session.begin():
            for model in reversed(models.ALL_MODELS):  # children first
                session.query(model).delete(synchronize_session=False)
            everything = rows + topic_rows + card_rows
            for model in models.ALL_MODELS:  # parents before the rows that point at them
                session.add_all([row for row in everything if type(row) is model])
                session.flush()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise KnowledgeError(
            f"could not write the knowledge base to {_safe_url(database_url)}: {reason}; "
            "check CLINIC_KB_DATABASE_URL and that the database server is running"
        ) from exc
    finally:
        engine.dispose()
    return BuildReport(
        len(docs), sum(len(p) for p in passages_of.values()), len(cards), claim_count, citation_count,
        sentence_count,
    )


def _prepare_schema(engine: Engine) -> None:
    """Create the tables; if the models changed since the last build, recreate them (the data is rebuilt)."""
    inspector = inspect(engine)
    stale = any(
        inspector.has_table(table.name)
        and {c["name"] for c in inspector.get_columns(table.name)} != set(table.columns.keys())
        for table in models.Base.metadata.sorted_tables
    )
    if stale:
        models.Base.metadata.drop_all(engine)
    models.Base.metadata.create_all(engine)


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def inputs_fingerprint(database_url: str) -> str:
    """What the built knowledge base depends on: sources, cards, the clinic's policy file, the build code, the
    sentence check's spaCy pipeline and data, and where it goes."""
    return fingerprint([SOURCES_DIR, CARDS_DIR, POLICY_FILE, *BUILD_CODE, *pipeline_inputs()],
                       extra=_safe_url(database_url))


def is_built(database_url: str) -> bool:
    """True when the knowledge base at database_url has its tables and at least one card."""
    url = make_url(database_url)
    if (
        url.get_backend_name() == "sqlite"
        and url.database not in (None, "", ":memory:")
        and not Path(url.database).is_file()
    ):
        return False
    engine = make_engine(database_url)
    try:
        if not inspect(engine).has_table(models.AnswerCard.__tablename__):
            return False
        with engine.connect() as connection:
            return bool(connection.execute(select(func.count()).select_from(models.AnswerCard)).scalar())
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()


def _build_lock():
    """Two builds at once (make kb in two shells) wait for each other instead of interleaving."""
    return file_lock(BUILD_DIR / ".knowledge.lock")


def build_if_changed(force: bool = False) -> bool:
    """Rebuild the knowledge base when its sources, cards or build code changed. Returns True if it built."""
    database_url = knowledge_database_url()
    with _build_lock():
        wanted = inputs_fingerprint(database_url)
        if not force and is_current(STAMP_FILE, wanted) and is_built(database_url):
            print("knowledge base: up to date")
            return False
        report = build(SOURCES_DIR, CARDS_DIR, database_url)
        write_stamp(STAMP_FILE, wanted)
    print(
        f"knowledge base: {report.sources} sources, {report.passages} passages, {report.cards} cards, "
        f"{report.claims} claims, {report.citations} quotes and {report.sentences} sentences checked -> "
        f"{_safe_url(database_url)}"
    )
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    args = parser.parse_args(argv)
    try:
        build_if_changed(force=args.force)
    except KnowledgeError as exc:
        print(f"knowledge base build failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
