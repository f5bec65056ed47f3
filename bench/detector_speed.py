"""Speed of the English red-flag detector (bot.triage.detect), in process: ms per message by length bucket.

    .venv/bin/python -m bench.detector_speed [--repeat N] [--profile]

The corpus (also used by scripts/detector_parity.py): every example text of data/nlu/**/*.yml, the red-flag
suites (tests/red_flags/*.yml), bench/field/messages.yml, bench/heldout.yml, tests/e2e/*.yml, long
concatenations of 3-8 field/suite texts (fixed seed) and edge cases. Each text is detected once to warm the
caches, then timed `--repeat` times (the median per text is kept)."""
from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import re
import statistics
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BUCKETS = ((0, 80, "<=80"), (80, 400, "80-400"), (400, 1200, "400-1200"), (1200, 10**9, ">1200"))
EDGE_CASES = [
    "", " ", "!!", "?.", "...", "?", "😀", "🦵💥😭", "my achilles 💥 popped 😭", "<b>heard a pop</b>",
    "<p>my calf is <i>swollen</i> &amp; hot</p>", "&lt;script&gt;", "\n\n\n", "a\nb\nc", "POP", "pop? pop! pop.",
    "   heard   a   pop   ", "I heard a pop" * 3, "snap " * 400, ("my calf is swollen and hot. " * 200)[:5000],
    ("lorem ipsum dolor sit amet " * 200)[:5000], "x" * 5000, "1 2 3 4 5 6 7 8 9 10 weeks months",
]
_ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\{[^}]*\}")


def _strings(node, key: str | None = None):
    """Every string of a YAML tree, with the key it was found under."""
    if isinstance(node, str):
        yield key, node
    elif isinstance(node, dict):
        for k, value in node.items():
            yield from _strings(value, str(k))
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value, key)


def _texts_of(path: Path) -> list[str]:
    try:
        tree = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return []
    texts: list[str] = []
    for key, value in _strings(tree):
        if key == "examples":  # a Rasa NLU block: "- text" lines, entity annotations removed too
            for line in value.splitlines():
                line = line.strip()
                if line.startswith("- "):
                    texts.append(line[2:])
                    plain = _ANNOTATION.sub(lambda m: m.group(1) or m.group(2) or "", line[2:])
                    if plain != line[2:]:
                        texts.append(plain)
        elif key not in ("id", "level", "levels", "flag", "flags", "tags", "card", "kind", "intent", "version"):
            texts.append(value)
    return texts


def corpus(seed: int = 11) -> list[str]:
    """The parity and benchmark corpus, deterministic, duplicates removed (first occurrence kept)."""
    groups: dict[str, list[str]] = {}
    for pattern in ("data/nlu/**/*.yml", "tests/red_flags/*.yml", "bench/field/messages.yml", "bench/heldout.yml",
                    "tests/e2e/*.yml"):
        for path in sorted(ROOT.glob(pattern)):
            groups[str(path.relative_to(ROOT))] = _texts_of(path)
    pool = [t for name, texts in groups.items()
            if name.startswith(("bench/field", "tests/red_flags")) for t in texts if len(t) > 15]
    rng = random.Random(seed)
    long = [" ".join(rng.sample(pool, rng.randint(3, 8))) for _ in range(150)]
    long += [". ".join(rng.sample(pool, 8)) + "?" for _ in range(20)]
    long += [" ".join(rng.sample(pool, rng.randint(12, 24))) for _ in range(30)]  # the >1200 bucket
    texts = [t for texts in groups.values() for t in texts] + long + EDGE_CASES
    return list(dict.fromkeys(texts))


def history_pairs(texts: list[str], flag_ids: list[str], seed: int = 12, count: int = 1500) -> list[tuple]:
    """(text, earlier flag or signal ids) pairs for the `previous=` history."""
    rng = random.Random(seed)
    return [(rng.choice(texts), tuple(rng.sample(flag_ids, rng.choice((1, 1, 1, 2, 3))))) for _ in range(count)]


def bucket(length: int) -> str:
    return next(name for low, high, name in BUCKETS if low < length <= high or (low == 0 and length == 0))


def measure(texts: list[str], repeat: int = 3) -> dict[str, list[float]]:
    from bot.triage.detect import detect_red_flags

    per_bucket: dict[str, list[float]] = {name: [] for _, _, name in BUCKETS}
    for text in texts:
        detect_red_flags(text)
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            detect_red_flags(text)
            runs.append((time.perf_counter() - start) * 1000)
        per_bucket[bucket(len(text))].append(statistics.median(runs))
    return per_bucket


def table(per_bucket: dict[str, list[float]]) -> str:
    lines = ["| length (chars) | messages | mean ms | p50 ms | p95 ms | max ms |", "|---|---:|---:|---:|---:|---:|"]
    for name, values in per_bucket.items():
        if not values:
            continue
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        lines.append(f"| {name} | {len(values)} | {statistics.mean(values):.2f} | {statistics.median(values):.2f} "
                     f"| {p95:.2f} | {ordered[-1]:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="cProfile the whole corpus once, top 30 by tottime")
    args = parser.parse_args()
    from bot.triage.detect import detect_red_flags, engine

    start = time.perf_counter()
    engine()
    print(f"engine compiled in {time.perf_counter() - start:.2f} s")
    texts = corpus()
    if args.profile:
        for text in texts:
            detect_red_flags(text)
        profiler = cProfile.Profile()
        profiler.enable()
        for text in texts:
            detect_red_flags(text)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        return
    print(f"{len(texts)} texts, median of {args.repeat} runs each after one warm-up run")
    print(table(measure(texts, args.repeat)))


if __name__ == "__main__":
    main()
