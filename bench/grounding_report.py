"""reports/grounding/REPORT.md: every card's sentences, the claims they link, their coverage and the clinic's advice.

Run by `make eval` (bench/eval.py) or `python -m bench.grounding_report`. Reads the cards and the clinic policy
file directly and runs the build's own sentence check (knowledge.build.ground_sentences), so the report shows
what the build accepted.
"""
from __future__ import annotations

import statistics
import sys

from bot.paths import PROJECT_ROOT
from knowledge.build import CARDS_DIR, SOURCES_DIR, ground_sentences
from knowledge.cards import load_cards
from knowledge.errors import KnowledgeError
from knowledge.policy import load_policies
from knowledge.sentence_calibrate import choose_threshold, collect_pairs, summary
from knowledge.sentences import THRESHOLD_FILE, load_threshold
from knowledge.sources import load_manifest

REPORT = PROJECT_ROOT / "reports" / "grounding" / "REPORT.md"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def build_report() -> str:
    docs = load_manifest(SOURCES_DIR)
    policies = load_policies()
    cards = load_cards(CARDS_DIR, [d.id for d in docs], [n for d in docs for n in d.names], policies)
    threshold = load_threshold()
    results = {card.id: ground_sentences(card, policies, threshold=threshold) for card in cards}
    documents = [r for rs in results.values() for r in rs if not r.sentence.policy]
    policy_sentences = [r for rs in results.values() for r in rs if r.sentence.policy]
    pairs = collect_pairs()
    calibrated, accuracy = choose_threshold(pairs)
    counts = summary(pairs, calibrated)
    lines = [
        "# Sentence grounding", "",
        f"{len(cards)} cards, {len(documents) + len(policy_sentences)} sentences: {len(documents)} from the documents "
        f"(each linked to claims with verbatim quotes), {len(policy_sentences)} the clinic's advice "
        f"(knowledge/clinic_policy.yml). Every sentence passed the build's check: numbers, doses and durations, "
        f"named exercises and devices in its quotes, and at least {threshold:.0%} of its content words (lemmas "
        f"from build/spacy_pipeline) in them.", "",
        f"Document sentences' coverage: min {min(r.check.coverage for r in documents):.2f}, "
        f"median {statistics.median(r.check.coverage for r in documents):.2f}. "
        f"Cards reviewed by a clinician: {sum(1 for c in cards if c.reviewed_by)}/{len(cards)}; clinic policy "
        f"entries approved: {sum(1 for p in policies.values() if p.approved_by)}/{len(policies)}.", "",
        "## Calibration", "",
        f"Threshold {threshold} ({THRESHOLD_FILE.relative_to(PROJECT_ROOT)}, written by "
        f"`python -m knowledge.sentence_calibrate`; recomputed now: {calibrated}, accuracy {accuracy:.3f}).", "",
        "| pairs | count | passed the check |", "| --- | --- | --- |",
    ]
    meaning = {"supported": "current card sentences with their own quotes",
               "audit": "issue 16 audit: unsupported sentences as the cards said them",
               "mismatched": "card sentences with another card's quotes"}
    for label, value in counts.items():
        lines.append(f"| {meaning[label]} | {value['pairs']} | {value['passed']} |")
    missed = [p for p in pairs if p.label == "audit" and not p.mechanical and p.coverage >= calibrated]
    if missed:
        lines += ["", "Audit sentences the mechanical check does not catch (reused the quotes' own words; the "
                  "fix for these was reading, not the threshold):", ""]
        lines += [f"- {p.coverage:.2f} {p.where}: {_cell(p.text)}" for p in missed]
    lines += ["", "## Per card", "",
              "| card | reviewed | sentences | linked claims | coverage min / mean | clinic's advice sentences |",
              "| --- | --- | --- | --- | --- | --- |"]
    for card in cards:
        rs = results[card.id]
        docs_only = [r.check.coverage for r in rs if not r.sentence.policy]
        claims = {c for r in rs for c in r.sentence.claims}
        reviewed = f"{card.reviewed_by}, {card.reviewed_on}" if card.reviewed_by else "pending"
        lines.append(f"| {card.id} | {reviewed} | {len(rs)} | {len(claims)} | {min(docs_only):.2f} / "
                     f"{statistics.mean(docs_only):.2f} | {sum(r.sentence.policy for r in rs)} |")
    lines += ["", "## The clinic's advice", "",
              "| policy | text | approved | used by |", "| --- | --- | --- | --- |"]
    for policy in policies.values():
        users = sorted({card.id for card in cards for r in results[card.id] for c in r.sentence.claims
                        if card.claim(c).policy == policy.id})
        approved = f"{policy.approved_by}, {policy.approved_on}" if policy.approved_by else "pending"
        lines.append(f"| {policy.id} | {_cell(policy.text)} | {approved} | {', '.join(users)} |")
    lines += ["", "## Sentences", ""]
    for card in cards:
        lines += [f"### {card.id} ({card.path.name})", "", "| line | section | coverage | claims | sentence |",
                  "| --- | --- | --- | --- | --- |"]
        for r in results[card.id]:
            claims = ", ".join(f"{c} (policy)" if card.claim(c).policy else c for c in r.sentence.claims)
            coverage = "policy" if r.sentence.policy else f"{r.check.coverage:.2f}"
            lines.append(f"| {r.sentence.line} | {r.section} | {coverage} | {claims} | {_cell(r.sentence.text)} |")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    try:
        text = build_report()
    except KnowledgeError as exc:
        print(f"grounding report failed: {exc}", file=sys.stderr)
        return 1
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(text + "\n", encoding="utf-8")
    print("\n".join(text.splitlines()[:6]))
    print(f"report: {REPORT.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
