"""Held-out robustness check over REST: topic questions, red-flag messages and negatives nobody trained on.

bench/heldout.yml is hand-written and kept out of every training and pattern file (this script refuses to run if a
message appears verbatim in data/nlu, the red-flag suite, the e2e topic questions or the flag file). For each message
the real bot is started and asked over REST:

- topic: the reply is that card's answer (at least half of its key_facts and a "Sources:" line);
- red flag: the escalation advice of the expected level appears (a distinctive line of bot/triage/advice.yml);
- negative: no escalation advice of any level appears.

Run: .venv/bin/python -m bench.heldout_eval   (needs models/clinic.tar.gz: python -m bot build)
     writes reports/heldout/REPORT.md
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bot.build import MODEL_FILE  # noqa: E402
from bot.devtools.rest import new_sender, reply_text, say  # noqa: E402
from bot.launcher import BotProcesses, start_bot  # noqa: E402
from bot.triage.detect import detect_red_flags  # noqa: E402
from bot.triage.flags import LEVELS  # noqa: E402

HELDOUT = PROJECT_ROOT / "bench" / "heldout.yml"
REPORT = PROJECT_ROOT / "reports" / "heldout" / "REPORT.md"
CARDS = PROJECT_ROOT / "knowledge" / "cards"
# Files the held-out (and bench/field) messages must not be copied into: all training data (data/, every
# language folder, rules and stories too), the suite, the e2e questions and the flag file.
GUARDED = [*sorted((PROJECT_ROOT / "data").rglob("*.yml")),
           PROJECT_ROOT / "tests" / "red_flags" / "suite.yml",
           PROJECT_ROOT / "tests" / "e2e" / "topic_questions.yml",
           PROJECT_ROOT / "bot" / "triage" / "red_flags.yml"]


CHECK_QUESTION = "Is any of these happening to you now?"  # domain/red_flag_check.yml, utter_red_flag_check


def escalation_markers() -> dict[str, str]:
    """One distinctive phrase per level, from the advice the bot really sends (advice.yml + clinic.yml)."""
    clinic = yaml.safe_load((PROJECT_ROOT / "clinic.yml").read_text())
    advice = yaml.safe_load((PROJECT_ROOT / "bot" / "triage" / "advice.yml").read_text())["levels"]
    markers = {
        "emergency": f"Please call {clinic['emergency_number']} now",  # first line of the emergency advice
        "same_day": "Get it checked today:",                          # same_day advice, second line
        "soon": "Please book an assessment with the clinic",          # soon advice, first line
    }
    for level, marker in markers.items():
        template = advice[level].replace("{emergency_number}", str(clinic["emergency_number"]))
        assert marker in template, f"advice.yml changed: '{marker}' is no longer in the {level} advice"
    return markers


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9 ]", " ", text.lower())).strip()


def guarded_text() -> str:
    """Every guarded file's text, normalised (the files the evaluation messages must stay out of)."""
    return normalise(" ".join(path.read_text() for path in GUARDED if path.exists()))


def check_not_copied(data: dict) -> list[str]:
    """Held-out messages found (normalised) in a guarded file: the check is worthless for those."""
    guarded = guarded_text()
    messages = [t["text"] for t in data["topics"]] + [r["text"] for r in data["red_flags"]] + data["negatives"]
    return [m for m in messages if normalise(m) in guarded]


def load_cards() -> dict[str, list[str]]:
    return {path.stem: yaml.safe_load(path.read_text())["key_facts"] for path in sorted(CARDS.glob("*.yml"))}


def fact_share(answer: str, facts: list[str]) -> float:
    low = answer.lower()
    return sum(fact.lower() in low for fact in facts) / len(facts)


def reply_levels(answer: str, markers: dict[str, str]) -> list[str]:
    return [level for level in LEVELS if markers[level] in answer]


def detector_note(text: str) -> str:
    detection = detect_red_flags(text)
    return f"{detection.level or 'none'} {','.join(detection.flags)}".strip()


def converse(bot: BotProcesses, sender: str, text: str, red_flag: bool) -> str:
    """The bot's reply to the message; when it asks about the key signs (the classifier alone suspected a red flag),
    also its reply to the writer's answer: "yes" (/affirm) for a red flag, "no" (/deny) otherwise."""
    answer = reply_text(say(bot.rasa_url, sender, text))
    if CHECK_QUESTION in answer:
        answer += "\n" + reply_text(say(bot.rasa_url, sender, "/affirm" if red_flag else "/deny"))
    return answer


def evaluate(bot: BotProcesses, data: dict) -> list[dict]:
    markers, cards, rows = escalation_markers(), load_cards(), []

    def ask(text: str, red_flag: bool = False) -> str:
        return converse(bot, new_sender("heldout"), text, red_flag)

    for case in data["topics"]:
        answer = ask(case["text"])
        shares = {card: fact_share(answer, facts) for card, facts in cards.items()}
        best = max(shares, key=shares.get) if max(shares.values()) > 0 else "-"
        levels = reply_levels(answer, markers)
        ok = shares[case["card"]] >= 0.5 and "Sources:" in answer and not set(levels) & {"emergency", "same_day"}
        rows.append({"kind": "topic", "text": case["text"], "expected": case["card"], "tags": case.get("tags", []),
                     "got": best if not levels else f"{best} +{'/'.join(levels)}", "ok": ok, "reply": answer})
    for case in data["red_flags"]:
        answer = ask(case["text"], red_flag=True)
        levels = reply_levels(answer, markers)
        got = levels[0] if levels else "none"
        rows.append({"kind": "red_flag", "text": case["text"], "expected": case["level"], "tags": [],
                     "got": got, "ok": got == case["level"], "reply": answer})
    for text in data["negatives"]:
        answer = ask(text)
        levels = reply_levels(answer, markers)
        rows.append({"kind": "negative", "text": text, "expected": "none", "tags": [],
                     "got": "/".join(levels) or "none", "ok": not levels, "reply": answer})
    for row in rows:
        if not row["ok"]:
            row["detector"] = detector_note(row["text"])
    return rows


def summary(rows: list[dict]) -> list[str]:
    lines = []
    for kind, label in (("topic", "topic questions answered with the right card"),
                        ("red_flag", "red flags escalated at the expected level"),
                        ("negative", "negatives not escalated")):
        subset = [r for r in rows if r["kind"] == kind]
        lines.append(f"- {label}: **{sum(r['ok'] for r in subset)}/{len(subset)}**")
    for tag in ("long", "multi"):
        subset = [r for r in rows if tag in r["tags"]]
        lines.append(f"  - topic questions tagged `{tag}`: {sum(r['ok'] for r in subset)}/{len(subset)}")
    by_level = Counter((r["expected"], r["ok"]) for r in rows if r["kind"] == "red_flag")
    for level in LEVELS:
        passed, total = by_level[(level, True)], by_level[(level, True)] + by_level[(level, False)]
        lines.append(f"  - red flags, {level}: {passed}/{total}")
    return lines


def table(rows: list[dict]) -> list[str]:
    lines = ["| kind | message | expected | got | ok | detector (failures) |", "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        text = r["text"].replace("|", "/")
        lines.append(f"| {r['kind']} | {text} | {r['expected']} | {r['got']} | {'yes' if r['ok'] else '**NO**'} "
                     f"| {r.get('detector', '')} |")
    return lines


def write_report(rows: list[dict], preamble: str = "") -> None:
    lines = ["# Held-out robustness check (over REST)", ""]
    if preamble:
        lines += [preamble.strip(), ""]
    lines += ["## Latest run", "", *summary(rows), "", *table(rows), ""]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines))


def main() -> None:
    data = yaml.safe_load(HELDOUT.read_text())
    copied = check_not_copied(data)
    if copied:
        sys.exit("held-out messages copied into training/pattern files:\n" + "\n".join(copied))
    preamble_file = REPORT.parent / "PREAMBLE.md"
    with tempfile.TemporaryDirectory() as scratch:
        env = dict(os.environ, CLINIC_DATABASE_URL=f"sqlite:///{scratch}/heldout.db")
        bot = start_bot(MODEL_FILE, env=env, log_dir=Path(scratch), with_web=False)
        try:
            bot.wait_until_ready()
            rows = evaluate(bot, data)
        finally:
            bot.stop()
    print("\n".join(summary(rows)))
    for row in rows:
        if not row["ok"]:
            print(f"FAIL {row['kind']:9} expected={row['expected']:26} got={row['got']:26} "
                  f"det=[{row.get('detector', '')}] {row['text']}")
    write_report(rows, preamble_file.read_text() if preamble_file.exists() else "")
    print(f"report: {REPORT.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
