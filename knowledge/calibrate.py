"""Calibrate the retrieval threshold on labelled questions and write knowledge/retrieval_threshold.yml."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.retrieve import THRESHOLD_FILE, IndexedPassage, PassageIndex
from knowledge.sources import load_manifest, split_passages

PACKAGE_DIR = Path(__file__).resolve().parent
CALIBRATION_FILE = PACKAGE_DIR / "calibration.yml"
SOURCES_DIR = PACKAGE_DIR / "sources"


@dataclass(frozen=True)
class Scored:
    question: str
    in_scope: bool
    score: float
    passage_id: str | None


def index_from_sources(sources_dir: Path = SOURCES_DIR) -> PassageIndex:
    """The same passages the build stores (non-promotional), read straight from the sources."""
    passages = [
        IndexedPassage(p.id, p.source_id, p.heading, p.text)
        for doc in load_manifest(sources_dir)
        for p in split_passages(doc)
        if not p.promotional
    ]
    return PassageIndex(passages)


def score_questions(index: PassageIndex, calibration_file: Path = CALIBRATION_FILE) -> list[Scored]:
    data = yaml.safe_load(calibration_file.read_text(encoding="utf-8"))
    scored = []
    for label, in_scope in (("in_scope", True), ("out_of_scope", False)):
        for question in data.get(label) or []:
            hits = index.search(question, k=1)
            scored.append(
                Scored(
                    question, in_scope, hits[0].score if hits else 0.0, hits[0].passage.id if hits else None
                )
            )
    return scored


def choose_threshold(scored: list[Scored]) -> tuple[float, float]:
    """The threshold with the best accuracy (answer when score >= threshold), and that accuracy.

    Candidates are midpoints between neighbouring scores; among equally accurate ones, the midpoint of
    the widest gap wins, so the threshold sits as far as possible from both kinds of question.
    """
    values = sorted({s.score for s in scored})
    pairs = zip(values, values[1:], strict=False)
    candidates = [(low + high) / 2 for low, high in pairs] or [values[0] + 0.01]
    best: tuple[float, float, float] | None = None  # (accuracy, gap, threshold)
    for threshold in candidates:
        correct = sum((s.score >= threshold) == s.in_scope for s in scored)
        accuracy = correct / len(scored)
        below = max((v for v in values if v < threshold), default=0.0)
        above = min((v for v in values if v >= threshold), default=threshold)
        key = (accuracy, above - below, threshold)
        if best is None or key[:2] > best[:2]:
            best = key
    assert best is not None
    return round(best[2], 3), best[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="print the table, do not write the file")
    args = parser.parse_args(argv)
    scored = score_questions(index_from_sources())
    threshold, accuracy = choose_threshold(scored)
    print(f"{'label':<6} {'score':>6}  {'result':<7} {'top passage':<34} question")
    for s in sorted(scored, key=lambda s: -s.score):
        answered = s.score >= threshold
        verdict = "ok" if answered == s.in_scope else "WRONG"
        print(
            f"{'in' if s.in_scope else 'out':<6} {s.score:6.2f}  {verdict:<7} "
            f"{s.passage_id or '-':<34} {s.question}"
        )
    in_scope = [s for s in scored if s.in_scope]
    out_scope = [s for s in scored if not s.in_scope]
    recall = sum(s.score >= threshold for s in in_scope) / len(in_scope)
    rejection = sum(s.score < threshold for s in out_scope) / len(out_scope)
    print(
        f"\nthreshold {threshold:.3f}: accuracy {accuracy:.0%} on {len(scored)} questions "
        f"(in-scope answered {recall:.0%}, out-of-scope refused {rejection:.0%})"
    )
    if not args.dry_run:
        THRESHOLD_FILE.write_text(
            "# Written by `python -m knowledge.calibrate` from knowledge/calibration.yml; "
            "do not edit by hand.\n"
            "# score = BM25 / number of content words in the question x share of those words in the passage\n"
            + yaml.safe_dump(
                {
                    "threshold": threshold,
                    "accuracy": round(accuracy, 3),
                    "in_scope_answered": round(recall, 3),
                    "out_of_scope_refused": round(rejection, 3),
                    "questions": {"in_scope": len(in_scope), "out_of_scope": len(out_scope)},
                },
                sort_keys=False,
            ),
            encoding="utf-8",
        )
        print(f"wrote {THRESHOLD_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
