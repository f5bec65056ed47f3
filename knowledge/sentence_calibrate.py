"""Calibrate the sentence coverage threshold and write knowledge/sentence_threshold.yml.

Supported: every document sentence of the current cards with the quotes it links to (the clinic's advice
is left out: its backing is its own wording). Unsupported: the sentences of knowledge/sentence_calibration.yml
(the issue 16 audit, as the cards said them, with every quote their card cited for that text), and every
card sentence paired with the quotes of a sentence from another card (a wrong link). A pair is rejected when
a number or a named exercise/device is missing from its quotes, or its coverage is below the threshold; the
threshold with the best accuracy wins (ties: the middle of the widest gap, as knowledge/calibrate.py does).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.sentences import THRESHOLD_FILE, SentenceGrounder, default_grounder

PACKAGE_DIR = Path(__file__).resolve().parent
CALIBRATION_FILE = PACKAGE_DIR / "sentence_calibration.yml"
MISMATCH_OFFSET = 7  # a sentence is paired with the quotes of the card this many places on (sorted by id)


@dataclass(frozen=True)
class Pair:
    label: str  # supported | audit | mismatched
    where: str
    text: str
    coverage: float
    mechanical: bool  # rejected whatever the threshold (a number or named exercise/device not quoted)

    @property
    def supported(self) -> bool:
        return self.label == "supported"


def _pair(grounder: SentenceGrounder, label: str, where: str, text: str, quotes: list[str]) -> Pair:
    check = grounder.check(text, quotes)
    return Pair(label, where, text, check.coverage, bool(check.missing_quantities or check.missing_terms))


def collect_pairs(grounder: SentenceGrounder | None = None, calibration_file: Path = CALIBRATION_FILE) -> list[Pair]:
    from knowledge.build import CARDS_DIR, SOURCES_DIR, sentence_backing
    from knowledge.cards import load_cards
    from knowledge.policy import load_policies
    from knowledge.sources import load_manifest

    grounder = grounder or default_grounder()
    docs = load_manifest(SOURCES_DIR)
    policies = load_policies()
    cards = load_cards(CARDS_DIR, [d.id for d in docs], [n for d in docs for n in d.names], policies)
    cards.sort(key=lambda c: c.id)
    sentences = [
        (card, s)
        for card in cards
        for section in card.sections().values()
        for s in section
        if not s.policy
    ]
    pairs = [
        _pair(grounder, "supported", f"{card.path.name}:{s.line}", s.text, sentence_backing(card, s, policies))
        for card, s in sentences
    ]
    by_card: dict[str, list] = {}
    for card, s in sentences:
        by_card.setdefault(card.id, []).append((card, s))
    ids = sorted(by_card)
    for index, card_id in enumerate(ids):
        others = by_card[ids[(index + MISMATCH_OFFSET) % len(ids)]]
        for position, (card, s) in enumerate(by_card[card_id]):
            other_card, other = others[position % len(others)]
            pairs.append(_pair(grounder, "mismatched", f"{card.path.name}:{s.line}", s.text,
                               sentence_backing(other_card, other, policies)))
    data = yaml.safe_load(calibration_file.read_text(encoding="utf-8")) or {}
    for item in data.get("unsupported") or []:
        pairs.append(_pair(grounder, "audit", str(item["card"]), str(item["text"]), [str(q) for q in item["quotes"]]))
    return pairs


def choose_threshold(pairs: list[Pair]) -> tuple[float, float]:
    """The coverage threshold with the best accuracy, and that accuracy."""
    values = sorted({p.coverage for p in pairs} | {0.0, 1.0})
    candidates = [(low, high) for low, high in zip(values, values[1:], strict=False)]

    def accuracy(threshold: float) -> float:
        right = sum((not p.mechanical and p.coverage >= threshold) == p.supported for p in pairs)
        return right / len(pairs)

    best = max(candidates, key=lambda gap: (round(accuracy((gap[0] + gap[1]) / 2), 6), gap[1] - gap[0]))
    threshold = round((best[0] + best[1]) / 2, 3)
    return threshold, accuracy(threshold)


def summary(pairs: list[Pair], threshold: float) -> dict[str, object]:
    def passed(p: Pair) -> bool:
        return not p.mechanical and p.coverage >= threshold

    counts: dict[str, object] = {}
    for label in ("supported", "audit", "mismatched"):
        group = [p for p in pairs if p.label == label]
        counts[label] = {"pairs": len(group), "passed": sum(passed(p) for p in group)}
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="print the table, do not write the threshold")
    args = parser.parse_args(argv)
    pairs = collect_pairs()
    threshold, accuracy = choose_threshold(pairs)
    counts = summary(pairs, threshold)
    for p in sorted(pairs, key=lambda p: p.coverage):
        if p.label != "mismatched" and p.coverage < threshold + 0.15:
            mark = "pass" if (not p.mechanical and p.coverage >= threshold) else "REJECT"
            print(f"{p.coverage:5.2f} {mark:6} {p.label:9} {p.where}: {p.text[:80]}")
    print(f"threshold {threshold} accuracy {accuracy:.3f} {counts}")
    if not args.dry_run:
        lines = [
            "# Written by `python -m knowledge.sentence_calibrate` from the cards and",
            "# knowledge/sentence_calibration.yml;",
            "# do not edit by hand. A card sentence fails the build when less than `threshold` of its content words",
            "# (lemmas, spaCy pipeline) are in the quotes it links to.",
            yaml.safe_dump({"threshold": threshold, "accuracy": round(accuracy, 3), "pairs": counts},
                           sort_keys=False).rstrip(),
        ]
        THRESHOLD_FILE.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {THRESHOLD_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
