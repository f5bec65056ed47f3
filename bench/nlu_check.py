"""Count NLU examples per intent (and long ones), and list duplicates within and across intents."""
from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import yaml

NLU_DIR = Path(__file__).resolve().parent.parent / "data" / "nlu"


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def main() -> int:
    counts: Counter[str] = Counter()
    long_counts: Counter[str] = Counter()
    seen: dict[str, list[str]] = defaultdict(list)
    for path in sorted(NLU_DIR.glob("*.yml")):
        for block in yaml.safe_load(path.read_text())["nlu"]:
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                line = line.strip()
                if not line.startswith("- "):
                    continue
                text = line[2:]
                counts[block["intent"]] += 1
                if len(text.split()) >= 18:
                    long_counts[block["intent"]] += 1
                seen[normalise(text)].append(block["intent"])
    for intent, n in sorted(counts.items()):
        print(f"{intent:28s} {n:4d}  long(>=18 words): {long_counts[intent]}")
    print(f"{'total':28s} {sum(counts.values()):4d}")
    dups = {t: i for t, i in seen.items() if len(i) > 1}
    for text, intents in dups.items():
        print(f"DUPLICATE: {text!r} in {intents}")
    return 1 if dups else 0


if __name__ == "__main__":
    sys.exit(main())
