"""Fixtures for the red-flag tests: the project's spaCy pipeline and the NLU component."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def spacy_nlp():
    """The project's spaCy pipeline (build/spacy_pipeline, built on the fly if missing)."""
    import spacy

    from bot.build import build_spacy_pipeline
    from bot.paths import SPACY_PIPELINE_DIR

    build_spacy_pipeline()
    return spacy.load(SPACY_PIPELINE_DIR)


@pytest.fixture(scope="session")
def detector():
    from bot.nlp.red_flag_detector import RedFlagDetector

    return RedFlagDetector(RedFlagDetector.get_default_config())
