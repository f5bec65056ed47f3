"""`make eval`: the evaluation reports (not gates) — NLU cross-validation, answers over REST, red flags."""
from __future__ import annotations

import subprocess
import sys

from bot.paths import PROJECT_ROOT

STEPS = [
    ("NLU cross-validation (macro-F1, confusion pairs)", ["bench/nlu_eval.py"]),
    ("answer-level facts over REST", ["-m", "bench.answer_eval"]),
    ("red-flag recall, false alarms and escalation latency", ["bench/red_flag_eval.py"]),
    ("held-out runner messages over REST (topics, red flags, negatives)", ["bench/heldout_eval.py"]),
    ("sentence grounding of the answer cards", ["-m", "bench.grounding_report"]),
    ("field-style runner messages and follow-ups over REST (triage, cards)", ["-m", "bench.field_eval"]),
]


def main() -> int:
    failures = 0
    for title, args in STEPS:
        print(f"\n=== {title}")
        result = subprocess.run([sys.executable, *args], cwd=PROJECT_ROOT)
        failures += result.returncode != 0
    print("\nreports: reports/nlu/REPORT.md, reports/answers/REPORT.md, reports/red_flags/REPORT.md, "
          "reports/heldout/REPORT.md, reports/field/REPORT.md, reports/grounding/REPORT.md")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
