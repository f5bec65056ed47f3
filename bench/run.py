"""Benchmark: train time, time to ready, REST reply latency (sequential and 16 concurrent), throughput, memory."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.build import MODEL_FILE
from bot.launcher import start_bot
from bot.paths import PROJECT_ROOT
from tests.rest import new_sender, say

QUESTIONS = [
    "do heel lifts help?",
    "can i keep running with achilles pain",
    "how long does achilles tendinopathy take to heal",
    "what causes achilles pain in runners",
    "which exercises should i do",
    "hi",
]
SEQUENTIAL_MESSAGES = 60
CONCURRENT_CONVERSATIONS = 16
MESSAGES_PER_CONVERSATION = 6


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def time_training(out_dir: str) -> float:
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "rasa", "train", "--out", out_dir, "--force", "--quiet"],
                   cwd=PROJECT_ROOT, check=True, capture_output=True)
    return time.monotonic() - start


def timed_say(rasa_url: str, sender: str, message: str) -> float:
    start = time.monotonic()
    say(rasa_url, sender, message)
    return time.monotonic() - start


def conversation(rasa_url: str) -> list[float]:
    sender = new_sender("bench")
    return [timed_say(rasa_url, sender, QUESTIONS[i % len(QUESTIONS)]) for i in range(MESSAGES_PER_CONVERSATION)]


def main() -> None:
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as scratch:
        train_seconds = time_training(scratch)
        rows.append(("train time (rasa train --force)", f"{train_seconds:.1f} s"))
        env = dict(os.environ, CLINIC_DATABASE_URL=f"sqlite:///{scratch}/bench.db")
        bot = start_bot(MODEL_FILE, env=env, log_dir=Path(scratch) / "logs", with_web=False)
        try:
            ready = bot.wait_until_ready()
            rows.append(("time until servers are ready", f"{ready:.1f} s"))
            say(bot.rasa_url, new_sender("warmup"), "hello")  # first message loads lazily-built parts

            sender = new_sender("bench-seq")
            start = time.monotonic()
            sequential = [timed_say(bot.rasa_url, sender, QUESTIONS[i % len(QUESTIONS)])
                          for i in range(SEQUENTIAL_MESSAGES)]
            seq_elapsed = time.monotonic() - start
            rows.append(("REST latency, sequential p50", f"{statistics.median(sequential) * 1000:.0f} ms"))
            rows.append(("REST latency, sequential p95", f"{percentile(sequential, 0.95) * 1000:.0f} ms"))
            rows.append(("messages/s, sequential", f"{SEQUENTIAL_MESSAGES / seq_elapsed:.1f}"))

            start = time.monotonic()
            with ThreadPoolExecutor(CONCURRENT_CONVERSATIONS) as pool:
                results = list(pool.map(lambda _: conversation(bot.rasa_url), range(CONCURRENT_CONVERSATIONS)))
            conc_elapsed = time.monotonic() - start
            concurrent = [latency for batch in results for latency in batch]
            rows.append((f"REST latency, {CONCURRENT_CONVERSATIONS} concurrent p50",
                         f"{statistics.median(concurrent) * 1000:.0f} ms"))
            rows.append((f"REST latency, {CONCURRENT_CONVERSATIONS} concurrent p95",
                         f"{percentile(concurrent, 0.95) * 1000:.0f} ms"))
            rows.append((f"messages/s, {CONCURRENT_CONVERSATIONS} concurrent",
                         f"{len(concurrent) / conc_elapsed:.1f}"))
            for name, pid in bot.pids().items():
                rows.append((f"resident memory, {name}", f"{rss_mb(pid):.0f} MB"))
        finally:
            bot.stop()
    width = max(len(name) for name, _ in rows)
    print(f"\n{'measure'.ljust(width)} | value\n{'-' * width}-|-{'-' * 12}")
    for name, value in rows:
        print(f"{name.ljust(width)} | {value}")


if __name__ == "__main__":
    main()
