"""The build: grounding check, errors with file and line, idempotent rebuild, rebuild only when changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from knowledge import build as build_module
from knowledge import models
from knowledge.build import CARDS_DIR, SOURCES_DIR, build
from knowledge.errors import CardError, GroundingError, SourceError
from knowledge.grounding import normalise


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def dump(url: str) -> dict[str, list[tuple]]:
    """Every row of every knowledge table, sorted, as plain tuples."""
    engine = create_engine(url, future=True)
    try:
        with Session(engine) as session:
            result = {}
            for model in models.ALL_MODELS:
                columns = [c.key for c in model.__table__.columns]
                rows = session.scalars(select(model)).all()
                result[model.__tablename__] = sorted(tuple(getattr(r, c) for c in columns) for r in rows)
            return result
    finally:
        engine.dispose()


def test_real_cards_are_grounded_and_citations_point_at_the_quote(kb_url: str) -> None:
    tables = dump(kb_url)
    assert len(tables["kb_sources"]) == 5
    assert len(tables["kb_answer_cards"]) == 22
    texts = {row[0]: row[-1] for row in tables["kb_sources"]}  # id ... text (last column)
    engine = create_engine(kb_url, future=True)
    with Session(engine) as session:
        citations = session.scalars(select(models.Citation)).all()
        assert len(citations) > 100
        for citation in citations:
            located = texts[citation.source_id][citation.start_char : citation.end_char]
            assert normalise(located) == normalise(citation.quote)
    engine.dispose()


def test_broken_quote_fails_the_build_naming_file_line_and_quote(cards_copy: Path, tmp_path: Path) -> None:
    card = cards_copy / "diet.yml"
    original = "A balanced diet of collagen, vitamin C, and anti-inflammatory foods can support tendon repair"
    broken = "A balanced diet of collagen, vitamin C, and fish oil can support tendon repair"
    card.write_text(card.read_text(encoding="utf-8").replace(original, broken), encoding="utf-8")
    with pytest.raises(GroundingError) as error:
        build(SOURCES_DIR, cards_copy, f"sqlite:///{tmp_path / 'kb.db'}", progress=False)
    message = str(error.value)
    assert f"diet.yml:{line_of(card, broken)}:" in message
    assert "fish oil" in message
    assert "blog_achilles_after_running" in message


def test_quote_matching_ignores_only_whitespace_and_typography(cards_copy: Path, tmp_path: Path) -> None:
    card = cards_copy / "heel_lifts.yml"
    text = card.read_text(encoding="utf-8")
    # straight apostrophe for the source's curly one: still grounded
    card.write_text(
        text.replace('they’re not a long-term fix."', "they're not a long-term fix.\""), encoding="utf-8"
    )
    build(SOURCES_DIR, cards_copy, f"sqlite:///{tmp_path / 'ok.db'}", progress=False)
    # a change of case is a different quote
    card.write_text(
        text.replace('quote: "Heel lifts can temporarily', 'quote: "heel lifts can temporarily', 1),
        encoding="utf-8",
    )
    with pytest.raises(GroundingError, match=r"heel_lifts\.yml:\d+:"):
        build(SOURCES_DIR, cards_copy, f"sqlite:///{tmp_path / 'bad.db'}", progress=False)


def test_malformed_yaml_names_file_and_line(cards_copy: Path, tmp_path: Path) -> None:
    card = cards_copy / "diet.yml"
    text = card.read_text(encoding="utf-8")
    card.write_text(
        text.replace("intent: ask_diet\n", "intent: ask_diet\n  oops: bad indentation\n"), encoding="utf-8"
    )
    with pytest.raises(CardError) as error:
        build(SOURCES_DIR, cards_copy, f"sqlite:///{tmp_path / 'kb.db'}", progress=False)
    assert f"diet.yml:{line_of(card, 'oops: bad indentation')}: invalid YAML" in str(error.value)


def test_claim_without_quotes_names_its_line(cards_copy: Path, tmp_path: Path) -> None:
    card = cards_copy / "diet.yml"
    text = card.read_text(encoding="utf-8")
    start = text.index("  - id: gradual")
    card.write_text(
        text[:start] + "  - id: gradual\n    text: Increase training gradually.\n", encoding="utf-8"
    )
    with pytest.raises(CardError) as error:
        build(SOURCES_DIR, cards_copy, f"sqlite:///{tmp_path / 'kb.db'}", progress=False)
    assert str(error.value).startswith(
        f"{card}:{line_of(card, '- id: gradual')}: claim has no quotes"
    ) or f"diet.yml:{line_of(card, '- id: gradual')}: claim has no quotes" in str(error.value)


def test_number_not_in_any_quote_fails(cards_copy: Path, tmp_path: Path) -> None:
    card = cards_copy / "exercises.yml"
    card.write_text(
        card.read_text(encoding="utf-8").replace("with 2 minutes' rest", "with 3 minutes' rest"),
        encoding="utf-8",
    )
    with pytest.raises(GroundingError) as error:
        build(SOURCES_DIR, cards_copy, f"sqlite:///{tmp_path / 'kb.db'}", progress=False)
    assert f"exercises.yml:{line_of(card, 'Another plan has four phases')}: the detail sentence" in str(error.value)
    assert "states 3 minute, which no linked quote states" in str(error.value)


def test_clinic_name_in_card_text_fails(cards_copy: Path, tmp_path: Path) -> None:
    card = cards_copy / "physio.yml"
    card.write_text(
        card.read_text(encoding="utf-8").replace("Yes: one clinic says", "Yes: Keystone says"),
        encoding="utf-8",
    )
    with pytest.raises(CardError, match=r"physio\.yml:\d+: answer sentence names a clinic \('Keystone'\)"):
        build(SOURCES_DIR, cards_copy, f"sqlite:///{tmp_path / 'kb.db'}", progress=False)


def test_missing_source_file_names_manifest_line(sources_copy: Path, tmp_path: Path) -> None:
    (sources_copy / "003_2f79faaa82b96e5c.txt").unlink()
    with pytest.raises(
        SourceError, match=r"manifest\.yml:\d+: source file '003_2f79faaa82b96e5c\.txt' does not exist"
    ):
        build(sources_copy, CARDS_DIR, f"sqlite:///{tmp_path / 'kb.db'}", progress=False)


def test_rebuild_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    first_report = build(SOURCES_DIR, CARDS_DIR, url, progress=False)
    first = dump(url)
    second_report = build(SOURCES_DIR, CARDS_DIR, url, progress=False)
    second = dump(url)
    assert first_report == second_report
    assert {t: len(rows) for t, rows in first.items()} == {t: len(rows) for t, rows in second.items()}
    assert first == second
    other = f"sqlite:///{tmp_path / 'other.db'}"
    build(SOURCES_DIR, CARDS_DIR, other, progress=False)
    assert dump(other) == first


def test_build_if_changed_rebuilds_only_when_inputs_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'kb.db'}"
    monkeypatch.setenv("CLINIC_KB_DATABASE_URL", url)
    monkeypatch.setattr(build_module, "STAMP_FILE", tmp_path / "knowledge.fingerprint")
    assert build_module.build_if_changed() is True
    assert build_module.build_if_changed() is False
    (tmp_path / "kb.db").unlink()  # the database went away: rebuild even though the inputs did not change
    assert build_module.build_if_changed() is True
    assert build_module.build_if_changed(force=True) is True
