"""Sample a running Rasa server with py-spy while the bench loads it, and say where its CPU went.

py-spy is a developer tool (pip install py-spy into the venv); it is not a dependency of the bot. Shares
are inclusive: the fraction of samples whose stack passes through the part. py-spy pauses the process for each
sample (no --nonblocking): without that, stacks of the busy event loop come out torn (frames of unrelated
calls mixed), which misattributed about 8% to Rasa's graph schema walk.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# What the report names, and the stack frames that mark it (substrings of py-spy's "function (file:line)").
PARTS = [
    ("action response check (RemoteAction._validate_action_result)", ["_validate_action_result"]),
    ("action server call (RemoteAction.run, HTTP)", ["run (rasa/core/actions/action.py"]),
    ("NLU graph (parse_message)", ["parse_message"]),
    ("  spaCy", ["spacy/"]),
    ("  red-flag detector (bot/nlp, bot/triage)", ["bot/nlp/", "bot/triage/"]),
    ("  language detection (lingua)", ["lingua"]),
    ("  DIET / TensorFlow", ["tensorflow/", "diet_classifier"]),
    ("policies (predict_next_action)", ["_predict_next_with_tracker", "predict_next_action"]),
    ("tracker store retrieve", ["retrieve (rasa/core/tracker_store.py", "_retrieve (bot/tracker_store.py"]),
    ("tracker store save", ["save (bot/tracker_store.py", "save (rasa/core/tracker_store.py"]),
    ("  SQLAlchemy", ["sqlalchemy/"]),
    ("tracker replay (DialogueStateTracker.from_dict)", ["from_dict (rasa/shared/core/trackers.py"]),
    ("  event class lookup (Event.resolve_by_type)", ["resolve_by_type (rasa/shared/core/events.py",
                                                      "resolve_by_type (bot/server/event_types.py"]),
    ("JSON", ["json/"]),
]
# Leaf frames of a thread that is only waiting (py-spy cannot always tell): left out of the shares.
IDLE_LEAVES = ["_worker (concurrent/futures/thread.py", "serve (sanic/server/runners.py", "select (selectors.py",
               "wait (threading.py", "_wait_for_tstate_lock (threading.py", "poll (selectors.py"]


@dataclass
class Profiler:
    process: subprocess.Popen
    output: Path


def py_spy() -> str | None:
    return shutil.which("py-spy") or (str(Path(sys.executable).with_name("py-spy"))
                                        if Path(sys.executable).with_name("py-spy").is_file() else None)


def start(pid: int, output: Path, rate: int = 50) -> Profiler | None:
    binary = py_spy()
    if binary is None:
        print("py-spy not installed (.venv/bin/pip install py-spy); no profile", file=sys.stderr)
        return None
    process = subprocess.Popen([binary, "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw",
                                "--output", str(output)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return Profiler(process, output)


def shares(collapsed: str) -> tuple[int, int, Counter]:
    """(busy samples, idle samples, busy samples per part) from py-spy's raw (collapsed stack) output."""
    busy = idle = 0
    per_part: Counter = Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        if any(stack.rsplit(";", 1)[-1].startswith(leaf) for leaf in IDLE_LEAVES):
            idle += int(count)
            continue
        busy += int(count)
        for name, markers in PARTS:
            if any(marker in stack for marker in markers):
                per_part[name] += int(count)
    return busy, idle, per_part


def summarise(profiler: Profiler | None) -> list[str]:
    if profiler is None:
        return []
    profiler.process.send_signal(2)  # SIGINT: py-spy writes its output and exits
    try:
        profiler.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        profiler.process.kill()
    if not profiler.output.is_file():
        return ["py-spy wrote no profile (it needs ptrace rights: run as root or set kernel.yama.ptrace_scope=0)."]
    busy, idle, per_part = shares(profiler.output.read_text())
    lines = ["| part | share of busy samples |", "|---|---:|"]
    for name, _markers in PARTS:
        lines.append(f"| {name} | {100 * per_part[name] / max(busy, 1):.0f}% |")
    lines += ["", f"{busy} busy samples at 50 Hz (all threads; {idle} idle ones left out). Shares are inclusive; "
              "indented parts are inside the one above. The bare bot's rounds run meanwhile, so the clinic server "
              "is partly idle."]
    return lines
