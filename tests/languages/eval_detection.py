"""Language-detection accuracy on short messages (tests/languages/short_messages.yml), per language.

    .venv/bin/python -m tests.languages.eval_detection    # prints a Markdown table for reports/languages/REPORT.md

A Chinese message with no script-specific character is valid in both scripts: it is counted as "either" (right
whichever script is chosen) and listed, so the table does not hide how often the script is a guess.
"""
from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import yaml

from bot.nlp.language_detector import detect_language

SHORT_MESSAGES = Path(__file__).with_name("short_messages.yml")
SUPPORTED = ("en", "es", "zh-Hant", "zh-Hans")


def load_short_messages(path: Path = SHORT_MESSAGES) -> dict[str, list[str]]:
    return {str(k): [str(m) for m in v] for k, v in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items()}


def outcome(expected: str, text: str) -> str:
    """right | either (Chinese, valid in both scripts) | undetermined | wrong:<code>"""
    result = detect_language(text)
    if result.language == expected:
        return "right"
    if expected.startswith("zh") and result.language.startswith("zh"):
        script = result.script
        if not script.get("traditional_only") and not script.get("simplified_only") and not script.get("cantonese"):
            return "either"
    if result.language == "und":
        return "undetermined"
    return f"wrong:{result.language}"


def main() -> None:
    data = load_short_messages()
    print("| expected | messages | right | either script | undetermined (keeps conversation language) | wrong |")
    print("|---|---|---|---|---|---|")
    misses: list[str] = []
    detect_language("warm up")  # load the models first: the time below is per message
    started = time.perf_counter()
    total = 0
    for language, messages in data.items():
        counts: Counter[str] = Counter()
        for text in messages:
            result = outcome(language, text)
            counts["wrong" if result.startswith("wrong") else result] += 1
            total += 1
            if result not in ("right",):
                misses.append(f"- {language}: {text!r} -> {result}")
        print(f"| {language} | {len(messages)} | {counts['right']} | {counts['either']} | {counts['undetermined']} "
              f"| {counts['wrong']} |")
    elapsed = (time.perf_counter() - started) / max(total, 1) * 1000
    print(f"\n{elapsed:.2f} ms per message (after the models are loaded)\n\nNot right:")
    print("\n".join(misses))


if __name__ == "__main__":
    main()
