"""Sources: the manifest, web-debris cleaning, and passages that point into the original text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from knowledge import models
from knowledge.build import SOURCES_DIR
from knowledge.errors import SourceError
from knowledge.sources import display_text, load_manifest, split_passages

DEBRIS = [
    r"top of page",
    r"bottom of page",
    r"Written [Bb]y",
    r"\.jpe?g",
    r"Read More",
    r"^\s*Previous\s*$",
    r"^\s*Next\s*$",
    r"\d+ hours ago",
    r"\d+ min read",
    r"amy45210",
    r"Blood Flow Restriction Training",
    r"Thoracic Mobility",
    r"Atlanta Runners: When Can You Start",
    r"Progressive Achilles rehab exercise",
    r"---\|",
    r"\| Prevention Tips \|",
]


@pytest.fixture(scope="module")
def docs():  # noqa: ANN201
    return load_manifest(SOURCES_DIR)


def test_manifest_lists_the_five_documents(docs) -> None:  # noqa: ANN001
    assert len(docs) == 5
    assert len({d.id for d in docs}) == 5
    for doc in docs:
        assert doc.title and doc.publisher and doc.kind in {"clinic_article", "clinic_blog"}
        assert (SOURCES_DIR / doc.file).read_text(encoding="utf-8") == doc.text
    assert docs[0].id == "hksc_return_to_running"


def test_passages_point_into_the_original_text(docs) -> None:  # noqa: ANN001
    for doc in docs:
        passages = split_passages(doc)
        assert len(passages) >= 8
        previous_end = 0
        for passage in passages:
            assert doc.text[passage.start : passage.end] == passage.text
            assert passage.start >= previous_end  # in order, never overlapping
            previous_end = passage.end
            assert len(passage.text.split()) <= 110


def test_stored_passages_match_their_source(kb_url: str) -> None:
    engine = create_engine(kb_url, future=True)
    with Session(engine) as session:
        texts = {s.id: s.text for s in session.scalars(select(models.Source))}
        passages = session.scalars(select(models.Passage)).all()
        assert passages
        for passage in passages:
            assert texts[passage.source_id][passage.start_char : passage.end_char] == passage.text
    engine.dispose()


def test_web_debris_is_removed(docs) -> None:  # noqa: ANN001
    for doc in docs:
        for passage in split_passages(doc):
            for pattern in DEBRIS:
                assert not re.search(pattern, passage.text, re.MULTILINE), (passage.id, pattern)


def test_duplicated_conclusion_is_kept_once(docs) -> None:  # noqa: ANN001
    blog = next(d for d in docs if d.id == "blog_achilles_after_running")
    joined = " ".join(p.text for p in split_passages(blog))
    assert joined.count("When discomfort arises, rest, ice therapy") == 1


def test_marketing_is_flagged_and_content_is_not(docs) -> None:  # noqa: ANN001
    passages = [p for d in docs for p in split_passages(d)]
    promo = [p for p in passages if p.promotional]
    assert any("Book a FREE consultation" in p.text for p in promo)
    assert any("Schedule an evaluation" in p.text for p in promo)
    heel_lifts = next(p for p in passages if "Heel lifts can temporarily" in p.text)
    assert not heel_lifts.promotional


def test_display_text_is_one_plain_paragraph(docs) -> None:  # noqa: ANN001
    tempo = next(d for d in docs if d.id == "tempo_pt_runners")
    passage = next(p for p in split_passages(tempo) if "Shorten runs" in p.text)
    shown = display_text(passage.text)
    assert "\n" not in shown and "•" not in shown
    assert "Shorten runs. Avoid hills and speedwork." in shown


def test_manifest_errors_name_the_line(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Some text about tendons.\n", encoding="utf-8")
    (tmp_path / "manifest.yml").write_text(
        "sources:\n  - id: one\n    file: a.txt\n    title: A\n    publisher: P\n    kind: newspaper\n",
        encoding="utf-8",
    )
    with pytest.raises(SourceError, match=r"manifest\.yml:6: kind 'newspaper' is not one of"):
        load_manifest(tmp_path)
