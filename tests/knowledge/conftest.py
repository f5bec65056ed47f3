"""Knowledge-base fixtures: one build of the real sources and cards into a temporary SQLite file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge import answers
from knowledge.build import CARDS_DIR, SOURCES_DIR, build


@pytest.fixture(scope="session")
def kb_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The real knowledge base, built once per test session into its own file (never build/knowledge.db)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('kb') / 'knowledge.db'}"
    build(SOURCES_DIR, CARDS_DIR, url, progress=False)
    return url


@pytest.fixture
def kb(kb_url: str, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201 - the answers module
    """knowledge.answers reading the test session's knowledge base."""
    monkeypatch.setenv("CLINIC_KB_DATABASE_URL", kb_url)
    answers.reset_cache()
    yield answers
    answers.reset_cache()


@pytest.fixture
def cards_copy(tmp_path: Path) -> Path:
    """A writable copy of the real cards, to break on purpose."""
    target = tmp_path / "cards"
    shutil.copytree(CARDS_DIR, target)
    return target


@pytest.fixture
def sources_copy(tmp_path: Path) -> Path:
    target = tmp_path / "sources"
    shutil.copytree(SOURCES_DIR, target)
    return target
