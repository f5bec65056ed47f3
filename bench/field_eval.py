"""Field-style evaluation over REST: long, messy runner messages and follow-ups nobody trained on.

bench/field/messages.yml is written for this project in the style of forum posts and reader letters (never copied
from them) and kept out of all training data: this script refuses to run if a message appears (normalised) in any
file under data/ or in the other guarded files (bench/heldout_eval.GUARDED). For each message the real bot is
started and asked over REST; the reply is scored on

- triage: the level of the advice it holds (emergency / same_day / soon / none, markers from advice.yml);
  over-triage = same_day or emergency on a message needing at most a booking; under-triage = a lower level than
  expected on a red flag or a booking;
- card: at least half of the expected card's key_facts and a "Sources:" line (messages with a card);
- clarify: "what would you like to know?" on a message with a clear topic (never wanted);
- follow-ups: first message, then the follow-up in the same conversation; the follow-up's reply must be the
  expected card (one of them, when a list) with the listed facts.

When the bot asks instead of guessing (the key signs and "is any of these happening to you now?", when only the
classifier suspected a red flag), the script answers as the writer would: "yes" (the /affirm button) for a red
flag, "no" (/deny) otherwise, and scores the two replies together; the report counts how often it asked.

Run: .venv/bin/python -m bench.field_eval [--report reports/field/REPORT.md]   (needs models/clinic.tar.gz)
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.heldout_eval import (  # noqa: E402
    CHECK_QUESTION,
    LEVELS,
    converse,
    detector_note,
    escalation_markers,
    fact_share,
    guarded_text,
    load_cards,
    normalise,
)
from bot.build import MODEL_FILE  # noqa: E402
from bot.devtools.rest import new_sender  # noqa: E402
from bot.launcher import BotProcesses, start_bot  # noqa: E402

FIELD = PROJECT_ROOT / "bench" / "field" / "messages.yml"
REPORT = PROJECT_ROOT / "reports" / "field" / "REPORT.md"
CLARIFY = "what you'd like to know"       # actions/answer.py's "Could you tell me what you'd like to know about?"
RANK = {"none": 0, "soon": 1, "same_day": 2, "emergency": 3}


def field_texts(data: dict) -> list[str]:
    return ([m["text"] for m in data["messages"]]
            + [f["first"] for f in data["followups"]] + [f["followup"] for f in data["followups"]])


def check_not_copied(data: dict) -> list[str]:
    """Field messages found (normalised) in a guarded file. Follow-up phrases shorter than four words ("tell me
    more") are everyday phrases that training data rightly holds, so only longer texts are checked."""
    guarded = guarded_text()
    return [t for t in field_texts(data) if len(t.split()) >= 4 and normalise(t) in guarded]


def top_level(answer: str, markers: dict[str, str]) -> str:
    found = [level for level in LEVELS if markers[level] in answer]
    return found[0] if found else "none"


def card_ok(answer: str, cards: dict[str, list[str]], expected: str | list[str] | None,
            facts: list[str] | None = None, detail: bool = False) -> tuple[bool, str]:
    """(right card with its key facts, best-matching card). `detail`: a "tell me more" follow-up, answered by the
    card's detail section, which holds other facts than the card's key facts: only the listed facts count."""
    shares = {card: fact_share(answer, key_facts) for card, key_facts in cards.items()}
    best = max(shares, key=shares.get) if max(shares.values()) > 0 else "-"
    if expected is None:
        return True, best
    wanted = [expected] if isinstance(expected, str) else list(expected)
    extra = all(fact.lower() in answer.lower() for fact in facts or [])
    if detail:
        return bool(facts) and extra and "Sources:" in answer, (wanted[0] if extra else best)
    return any(shares[card] >= 0.5 for card in wanted) and "Sources:" in answer and extra, best


def score_message(case: dict, answer: str, markers: dict[str, str], cards: dict) -> dict:
    got = top_level(answer, markers)
    expected = case["level"]
    card = case.get("card")
    right_card, best = card_ok(answer, cards, card) if card else (True, "-")
    row = {"kind": case["kind"], "id": case["id"], "text": case["text"], "tags": case.get("tags", []),
           "expected_level": expected, "got_level": got, "expected_card": card, "got_card": best,
           "right_card": right_card, "reply": answer,
           "over": RANK[expected] <= RANK["soon"] and RANK[got] >= RANK["same_day"],
           "under": RANK[got] < RANK[expected],
           "clarify": CLARIFY in answer.lower() and card is not None}
    row["ok"] = got == expected and right_card and not row["clarify"]
    row["asked"] = CHECK_QUESTION in answer
    return row


def evaluate(bot: BotProcesses, data: dict) -> tuple[list[dict], list[dict]]:
    markers, cards = escalation_markers(), load_cards()
    rows, follow_rows = [], []
    for case in data["messages"]:
        answer = converse(bot, new_sender("field"), case["text"], case["kind"] == "red_flag")
        rows.append(score_message(case, answer, markers, cards))
    for case in data["followups"]:
        sender = new_sender("field-fu")
        first = converse(bot, sender, case["first"], False)
        answer = converse(bot, sender, case["followup"], False)
        ok, best = card_ok(answer, cards, case["card"], case.get("facts"), case.get("detail", False))
        escalated = top_level(first + answer, markers) in ("same_day", "emergency")
        follow_rows.append({"id": case["id"], "first": case["first"], "followup": case["followup"],
                            "expected": case["card"], "got": best, "ok": ok and not escalated,
                            "reply": answer})
    for row in rows:
        if not row["ok"]:
            row["detector"] = detector_note(row["text"])
    return rows, follow_rows


def _rate(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else "0/0"


def summary(rows: list[dict], follow_rows: list[dict]) -> list[str]:
    at_most_booking = [r for r in rows if RANK[r["expected_level"]] <= RANK["soon"]]
    needs_advice = [r for r in rows if RANK[r["expected_level"]] >= RANK["soon"]]
    red = [r for r in rows if r["kind"] == "red_flag"]
    with_card = [r for r in rows if r["expected_card"]]
    lines = [
        f"- over-triage (same_day/emergency on a message needing at most a booking): "
        f"**{_rate(sum(r['over'] for r in at_most_booking), len(at_most_booking))}** (target <= 3%)",
        f"- under-triage (lower level than expected, red flags and bookings): "
        f"**{_rate(sum(r['under'] for r in needs_advice), len(needs_advice))}**",
        f"- red flags at the right level: "
        f"**{_rate(sum(r['got_level'] == r['expected_level'] for r in red), len(red))}** (target 100%)",
        f"- right card with key facts: **{_rate(sum(r['right_card'] for r in with_card), len(with_card))}** "
        "(target >= 97%)",
        f"- follow-ups resolved to the right card: **{_rate(sum(r['ok'] for r in follow_rows), len(follow_rows))}**"
        " (target >= 95%)",
        f"- 'what would you like to know?' on a message with a clear topic: "
        f"{sum(r['clarify'] for r in rows)}",
        f"- every check passed (level, card, no clarify): {_rate(sum(r['ok'] for r in rows), len(rows))}",
        f"- asked about the key signs (classifier alone; answered yes for red flags, no otherwise): "
        f"{sum(r['asked'] for r in rows)} ({sum(r['asked'] for r in red)} red flags)",
    ]
    by_kind = Counter((r["kind"], r["ok"]) for r in rows)
    for kind in ("answer", "booking", "red_flag"):
        total = by_kind[(kind, True)] + by_kind[(kind, False)]
        lines.append(f"  - {kind}: {_rate(by_kind[(kind, True)], total)}")
    for tag in ("long", "multi", "no_question", "third_person", "medicine", "history", "other_injury", "typo",
                "idiom", "short"):
        subset = [r for r in rows if tag in r["tags"]]
        if subset:
            lines.append(f"  - tagged `{tag}`: {_rate(sum(r['ok'] for r in subset), len(subset))}")
    over_by_level = Counter(r["got_level"] for r in at_most_booking if r["over"])
    if over_by_level:
        lines.append(f"  - over-triage by level given: {dict(over_by_level)}")
    return lines


def tables(rows: list[dict], follow_rows: list[dict]) -> list[str]:
    lines = ["## Messages", "", "| id | kind | message | level expected / got | card expected / best | ok | "
             "detector (failures) |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        text = r["text"].replace("|", "/")
        text = text if len(text) <= 160 else text[:157] + "..."
        mark = "yes" if r["ok"] else "**NO**" + (" (over)" if r["over"] else "") + (" (under)" if r["under"] else "") \
            + (" (clarify)" if r["clarify"] else "")
        lines.append(f"| {r['id']} | {r['kind']} | {text} | {r['expected_level']} / {r['got_level']} | "
                     f"{r['expected_card'] or '-'} / {r['got_card']} | {mark} | {r.get('detector', '')} |")
    lines += ["", "## Follow-ups", "", "| id | first | follow-up | expected | best | ok |",
              "| --- | --- | --- | --- | --- | --- |"]
    for r in follow_rows:
        expected = r["expected"] if isinstance(r["expected"], str) else " or ".join(r["expected"])
        lines.append(f"| {r['id']} | {r['first']} | {r['followup']} | {expected} | {r['got']} | "
                     f"{'yes' if r['ok'] else '**NO**'} |")
    return lines


def write_report(path: Path, rows: list[dict], follow_rows: list[dict], preamble: str = "") -> None:
    lines = ["# Field-style evaluation (over REST)", ""]
    if preamble:
        lines += [preamble.strip(), ""]
    lines += ["## Latest run", "", *summary(rows, follow_rows), "", *tables(rows, follow_rows), ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", type=Path, default=REPORT, help="where to write the report")
    args = parser.parse_args()
    data = yaml.safe_load(FIELD.read_text())
    copied = check_not_copied(data)
    if copied:
        sys.exit("field messages copied into training/pattern files:\n" + "\n".join(copied))
    preamble_file = REPORT.parent / "PREAMBLE.md"
    with tempfile.TemporaryDirectory() as scratch:
        env = dict(os.environ, CLINIC_DATABASE_URL=f"sqlite:///{scratch}/field.db")
        bot = start_bot(MODEL_FILE, env=env, log_dir=Path(scratch), with_web=False)
        try:
            bot.wait_until_ready()
            rows, follow_rows = evaluate(bot, data)
        finally:
            bot.stop()
    print("\n".join(summary(rows, follow_rows)))
    for row in rows:
        if not row["ok"]:
            print(f"FAIL {row['id']} {row['kind']:8} level={row['expected_level']}/{row['got_level']:9} "
                  f"card={row['expected_card']}/{row['got_card']} clarify={row['clarify']} "
                  f"det=[{row.get('detector', '')}] {row['text'][:110]}")
    for row in follow_rows:
        if not row["ok"]:
            print(f"FAIL {row['id']} followup expected={row['expected']} got={row['got']} "
                  f"{row['first'][:60]} -> {row['followup']}")
    write_report(args.report, rows, follow_rows,
                 preamble_file.read_text() if preamble_file.exists() and args.report == REPORT else "")
    print(f"report: {args.report}")


if __name__ == "__main__":
    main()
