"""NLU per language on held-out questions (my own phrasings, never in data/nlu): intent accuracy of the trained
model (models/clinic.tar.gz), for reports/languages/REPORT.md.

    .venv/bin/python -m tests.languages.eval_nlu
"""
from __future__ import annotations

import asyncio
from pathlib import Path

import yaml

HELD_OUT_DIR = Path(__file__).with_name("heldout_nlu")


def held_out() -> dict[str, list[tuple[str, str]]]:
    """language -> (question, expected intent), from tests/languages/heldout_nlu/<language>.yml."""
    cases = {}
    for path in sorted(HELD_OUT_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        cases[path.stem] = [(str(q["text"]), str(q["intent"])) for q in data.get("questions") or []]
    return cases


async def _evaluate() -> dict[str, tuple[int, int, list[str]]]:
    from rasa.core.agent import Agent

    from bot.paths import MODELS_DIR

    agent = Agent.load(str(MODELS_DIR / "clinic.tar.gz"))
    results = {}
    for language, cases in held_out().items():
        right, misses = 0, []
        for text, intent in cases:
            parsed = await agent.parse_message(text)
            got = parsed["intent"]["name"]
            if got == intent:
                right += 1
            else:
                misses.append(f"{text!r}: expected {intent}, got {got} ({parsed['intent']['confidence']:.2f})")
        results[language] = (right, len(cases), misses)
    return results


def main() -> None:
    results = asyncio.run(_evaluate())
    print("| language | held-out questions | intent right |\n|---|---|---|")
    for language, (right, total, _) in results.items():
        print(f"| {language} | {total} | {right} ({right / total:.0%}) |")
    for language, (_, _, misses) in results.items():
        for miss in misses:
            print(f"- {language}: {miss}")


if __name__ == "__main__":
    main()
