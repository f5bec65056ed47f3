"""Parity of the English red-flag detector: the checkout's code against the code of a base commit.

    .venv/bin/python scripts/detector_parity.py --base <commit> [--files bot/triage/detect.py ...]

The old side is a fresh copy of the checkout's bot/ package in /tmp/detector_old/bot (so it reads the same
red_flags.yml and lexicon/ as the checkout at this moment), with ONLY the given files put back at their version
in the base commit; build/ is linked so that both sides load the same spaCy pipeline. Each side runs in its own
process (PYTHONPATH) over the corpus of bench/detector_speed.py, once without history and once for a sample of
(text, earlier flag ids) pairs, and once with a doc passed in as Rasa does. Prints the counts and every
difference of Detection.to_dict(); exits 1 on any difference."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OLD = Path("/tmp/detector_old")
OWNED = ["bot/triage/detect.py", "bot/triage/patterns.py", "bot/triage/context.py"]


def worker(cases_file: str, out_file: str) -> None:
    """Runs inside one side's process: every case's Detection.to_dict(), one JSON line each."""
    import bot
    from bot.triage.detect import detect_red_flags, engine

    eng = engine()
    with open(cases_file, encoding="utf-8") as handle:
        cases = json.load(handle)
    with open(out_file, "w", encoding="utf-8") as out:
        out.write(json.dumps({"bot": str(Path(bot.__file__).parent)}) + "\n")
        for kind, text, previous in cases:
            doc = eng.nlp.make_doc(text.lower()) if kind == "doc" else None
            result = detect_red_flags(text, doc=doc, previous=previous).to_dict()
            out.write(json.dumps(result, sort_keys=True) + "\n")


def prepare_old(base: str, files: list[str]) -> None:
    OLD.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(OLD / "bot", ignore_errors=True)  # a fresh copy each run (rsync --delete, without rsync)
    shutil.copytree(ROOT / "bot", OLD / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    for name in files:
        old = subprocess.run(["git", "-C", str(ROOT), "show", f"{base}:{name}"], check=True,
                             capture_output=True).stdout
        (OLD / name).write_bytes(old)
    link = OLD / "build"
    if not link.is_symlink():
        link.symlink_to(ROOT / "build")


def run_side(pythonpath: Path, cases_file: str, out_file: str) -> list[dict]:
    env = dict(os.environ, PYTHONPATH=str(pythonpath), TF_CPP_MIN_LOG_LEVEL="3")
    subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", cases_file, out_file],
                   check=True, env=env, cwd="/tmp")
    with open(out_file, encoding="utf-8") as handle:
        lines = [json.loads(line) for line in handle]
    expected = str(pythonpath / "bot")
    if lines[0]["bot"] != expected:
        raise SystemExit(f"side {pythonpath}: imported bot from {lines[0]['bot']}, not {expected}")
    return lines[1:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="the commit of the old code (e.g. the commit before the speed change)")
    parser.add_argument("--files", nargs="*", default=OWNED, help="the files put back at --base on the old side")
    parser.add_argument("--worker", nargs=2, metavar=("CASES", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return 0
    if not args.base:
        parser.error("--base is required")
    sys.path.insert(0, str(ROOT))
    from bench.detector_speed import corpus, history_pairs
    from bot.triage.flags import load_flag_file

    file = load_flag_file()
    ids = [entry.id for entry in file.flags + file.signals]
    texts = corpus()
    pairs = history_pairs(texts, ids)
    docs = texts[::3]
    cases = ([("text", t, []) for t in texts] + [("history", t, list(p)) for t, p in pairs]
             + [("doc", t, []) for t in docs])
    prepare_old(args.base, args.files)
    with tempfile.TemporaryDirectory() as tmp:
        cases_file = f"{tmp}/cases.json"
        with open(cases_file, "w", encoding="utf-8") as handle:
            json.dump(cases, handle)
        old = run_side(OLD, cases_file, f"{tmp}/old.jsonl")
        new = run_side(ROOT, cases_file, f"{tmp}/new.jsonl")
    differences = 0
    for (kind, text, previous), a, b in zip(cases, old, new, strict=True):
        if a != b:
            differences += 1
            print(f"DIFFERENT ({kind}, previous={previous}): {text[:120]!r}\n  old: {a}\n  new: {b}")
    flagged = sum(1 for a in old if a["flags"])
    print(f"compared {len(texts)} texts, {len(pairs)} (text, earlier flags) pairs and {len(docs)} texts with a doc "
          f"({len(cases)} cases, {flagged} with flags on the old side): {differences} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
