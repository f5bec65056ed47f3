"""Answer-level evaluation over REST: each topic asked in new words; are its key facts and sources there?"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import yaml

from bot.build import MODEL_FILE
from bot.devtools.rest import new_sender, reply_text, say
from bot.launcher import BotProcesses, start_bot
from bot.paths import PROJECT_ROOT

QUESTIONS_FILE = PROJECT_ROOT / "tests" / "e2e" / "topic_questions.yml"
REPORT = PROJECT_ROOT / "reports" / "answers" / "REPORT.md"


def evaluate_answers(bot: BotProcesses) -> list[dict]:
    rows = []
    for topic, questions in yaml.safe_load(QUESTIONS_FILE.read_text()).items():
        facts = yaml.safe_load((PROJECT_ROOT / "knowledge" / "cards" / f"{topic}.yml").read_text())["key_facts"]
        for question in questions:
            start = time.monotonic()
            answer = reply_text(say(bot.rasa_url, new_sender("eval"), question))
            latency = time.monotonic() - start
            missing = [fact for fact in facts if fact.lower() not in answer.lower()]
            rows.append({"topic": topic, "question": question, "missing": missing,
                         "sourced": "Sources:" in answer, "latency": latency})
    return rows


def write_report(rows: list[dict]) -> str:
    passed = sum(1 for row in rows if not row["missing"] and row["sourced"])
    lines = [
        "# Answer-level evaluation over REST", "",
        f"{passed}/{len(rows)} questions answered with every key fact and a sources line; "
        f"median latency {statistics.median(r['latency'] for r in rows) * 1000:.0f} ms.", "",
        "| topic | question | key facts missing | sourced |", "| --- | --- | --- | --- |",
    ]
    for row in rows:
        missing = ", ".join(row["missing"]) or "none"
        lines.append(f"| {row['topic']} | {row['question']} | {missing} | {'yes' if row['sourced'] else 'NO'} |")
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("\n".join(lines) + "\n")
    return "\n".join(lines[:3])


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        env = dict(os.environ, CLINIC_DATABASE_URL=f"sqlite:///{scratch}/eval.db")
        bot = start_bot(MODEL_FILE, env=env, log_dir=Path(scratch), with_web=False)
        try:
            bot.wait_until_ready()
            print(write_report(evaluate_answers(bot)))
        finally:
            bot.stop()
    print(f"report: {REPORT.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
