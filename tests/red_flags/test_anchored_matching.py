"""The detector runs each pattern only where its anchor words are (bot/triage/patterns.py, CompiledPatterns.find):
it must find exactly what the one Matcher of every pattern finds, with the same alignments, and keep the Matcher's
order where two flags share a span (the detector keeps the first). scripts/detector_parity.py compares whole
detections with the code before this change."""
from __future__ import annotations

import random

import pytest
import yaml

from bot.paths import PROJECT_ROOT
from bot.triage.detect import clean_text, engine


def _suite_texts() -> list[str]:
    data = yaml.safe_load((PROJECT_ROOT / "tests" / "red_flags" / "suite.yml").read_text(encoding="utf-8"))
    texts = []
    for cases in data.values():
        for case in cases if isinstance(cases, list) else []:
            texts.extend([case["text"]] if "text" in case else list(case.get("turns") or []))
    return texts


def _first_label_per_span(compiled, matches) -> dict:
    first: dict = {}
    for match_id, start, end, _ in matches:
        info = compiled.info(match_id)
        first.setdefault((start, end), info.entry_id if info.kind in ("flag", "signal") else info.kind)
    return first


@pytest.fixture(scope="module")
def texts() -> list[str]:
    suite = [t for t in _suite_texts() if isinstance(t, str)]
    rng = random.Random(5)
    long = [" ".join(rng.sample(suite, 10)) for _ in range(15)]
    edge = ["!!", "?.", "pop", "snap " * 300, "my calf is swollen and hot. " * 60, "<b>heard a pop</b> 😭"]
    return suite + long + edge


def test_anchored_matching_finds_what_the_one_matcher_finds(texts):
    eng = engine()
    compiled = eng.compiled
    assert len(texts) > 250
    for text in texts:
        text = clean_text(text)
        if not text:
            continue
        doc, _ = eng.make_doc(text, None)
        expected = compiled.matcher(doc, with_alignments=True)
        found = compiled.find(doc)
        assert sorted(map(tuple, found)) == sorted(map(tuple, expected)), text
        assert _first_label_per_span(compiled, found) == _first_label_per_span(compiled, expected), text
