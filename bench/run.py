"""`make bench`: this bot beside a bare `rasa init` bot in one run, 1 vs 2 servers, and the staff list check.

    .venv/bin/python -m bench.run [--quick] [--profile] [--skip-scaleout] [--skip-staff]
    .venv/bin/python -m bench.run --compare-only [--rounds N] [--profile [--profile-out FILE]]

`--compare-only` runs only the side-by-side load rounds (1 and 32 concurrent) and prints them; it leaves
reports/bench/REPORT.md alone (only a full run writes it).

Both bots run at the same time on this machine and take turns (rounds, alternating who goes first), so
noise from other work falls on both and the ratio stays fair. Prints each table as it is measured and writes
them all to reports/bench/REPORT.md. A measurement, not a pass/fail test; the targets are shown next to it.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench.bare_bot import MESSAGES as BARE_MESSAGES
from bench.bare_bot import bare_bot_dir, bare_env, bare_service
from bench.load import LoadResult, conversations, run_load, wait_for_first_reply
from bot.build import MODEL_FILE
from bot.launcher import free_port, start_bot
from bot.paths import PROJECT_ROOT

REPORT = PROJECT_ROOT / "reports" / "bench" / "REPORT.md"

# Knowledge-base questions (each answered from a card by the action server), in our own words.
KB_QUESTIONS = [
    "do heel lifts help?", "can i keep running with achilles pain", "how long does achilles tendinopathy take to heal",
    "what causes achilles pain in runners", "which exercises should i do", "should i stretch my calves",
    "what shoes are best for a sore achilles", "when can i run again after achilles tendinopathy",
]
OURS_MESSAGES = ["hi", *KB_QUESTIONS[:4], "thanks", *KB_QUESTIONS[4:]]


@dataclass
class Sizes:
    rounds: int = 2
    sequential: int = 30            # messages of one conversation per round, 1 concurrent
    concurrent: int = 32
    per_conversation: int = 8
    kb_sequential: int = 40
    long_conversation: int = 220
    staff_conversations: int = 100_000


QUICK = Sizes(rounds=1, sequential=10, per_conversation=4, kb_sequential=15, long_conversation=40,
              staff_conversations=10_000)


@dataclass
class Report:
    """Markdown sections, printed as they are made and written to REPORT.md at the end."""

    sections: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    path: Path | None = REPORT  # None: print only

    def add(self, title: str, lines: list[str]) -> None:
        section = "\n".join([f"## {title}", "", *lines, ""])
        self.sections.append(section)
        print("\n" + section, flush=True)
        self.write(final=False)  # a run that fails later still leaves what it measured

    def write(self, final: bool = True) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        status = [] if final else ["", "**Run still under way or stopped early: sections below are partial.**"]
        self.path.write_text("\n".join([*self.header, *status, "", *self.sections]), encoding="utf-8")
        if final:
            print(f"written: {self.path.relative_to(PROJECT_ROOT)}")


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) of a process in MB, from /proc (Linux)."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", float("nan")), values.get("VmHWM", float("nan"))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def row(*cells: object) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def load_row(name: str, result: LoadResult) -> str:
    return row(name, result.concurrency, result.messages, f"{result.rate:.1f}", ms(result.p50), ms(result.p95),
               len(result.errors), result.silent)


LOAD_HEADER = [row("bot", "concurrent", "messages", "messages/s", "p50", "p95", "errors", "no reply"),
               "|---|---:|---:|---:|---:|---:|---:|---:|"]


def alternate(urls: dict[str, str], scripts: dict[str, list[list[str]]], concurrency: int, rounds: int
              ) -> dict[str, LoadResult]:
    """Each bot in turn, `rounds` times, the order swapped every round; results merged per bot."""
    merged: dict[str, LoadResult] = {}
    names = list(urls)
    for n in range(rounds):
        for name in (names if n % 2 == 0 else names[::-1]):
            result = run_load(urls[name], scripts[name], concurrency, f"{name} x{concurrency} round {n + 1}")
            merged[name] = merged[name].merge(result) if name in merged else result
    return merged


def side_by_side(report: Report, sizes: Sizes, profile: bool, compare_only: bool = False,
                 profile_out: Path | None = None) -> dict[str, float]:
    """This bot and the bare bot, both running; returns the numbers the targets are checked on."""
    bare_dir = bare_bot_dir(progress=note)
    facts: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        env = dict(os.environ, CLINIC_DATABASE_URL=f"sqlite:///{scratch}/bench.db")
        note("starting this bot (action server + Rasa server) ...")
        started = time.monotonic()
        ours = start_bot(MODEL_FILE, env=env, log_dir=Path(scratch) / "logs", with_web=False)
        bare = None
        try:
            ours.wait_until_ready()
            ready_ours = wait_for_first_reply(ours.rasa_url, "hello", started)
            note(f"  ready (first reply) after {ready_ours:.1f} s; starting the bare bot ...")
            bare = bare_service(bare_dir, free_port(), Path(scratch) / "logs")
            started = time.monotonic()
            bare.start(bare_env())
            bare_url = bare.health_url.rstrip("/")
            ready_bare = wait_for_first_reply(bare_url, "hello", started)
            note(f"  ready (first reply) after {ready_bare:.1f} s")
            urls = {"bare": bare_url, "clinic": ours.rasa_url}
            messages = {"bare": BARE_MESSAGES, "clinic": OURS_MESSAGES}
            for name, url in urls.items():  # warm-up: lazily built parts, connection pools
                run_load(url, conversations(messages[name], 4, 4), 4, f"{name} warm-up")

            one = alternate(urls, {n: conversations(m, 1, sizes.sequential) for n, m in messages.items()}, 1,
                            sizes.rounds)
            profiler = start_profile(ours.pids()["rasa server"], scratch) if profile else None
            many = alternate(urls, {n: conversations(m, sizes.concurrent, sizes.per_conversation)
                                    for n, m in messages.items()}, sizes.concurrent, sizes.rounds)
            profile_lines = finish_profile(profiler, profile_out) if profiler else []
            ratio_one = one["clinic"].rate / one["bare"].rate
            ratio_many = many["clinic"].rate / many["bare"].rate
            report.add("This bot beside a bare `rasa init` bot (same machine, same run, alternating rounds)", [
                *LOAD_HEADER,
                load_row("bare rasa init (DIET + TED, in-memory tracker)", one["bare"]),
                load_row("clinic bot (SQLite tracker store, action server)", one["clinic"]),
                load_row("bare rasa init", many["bare"]),
                load_row("clinic bot", many["clinic"]), "",
                f"Throughput ratio clinic / bare: **{ratio_one:.2f}x** at 1 concurrent, "
                f"**{ratio_many:.2f}x** at {sizes.concurrent} concurrent ({sizes.rounds} rounds each, "
                f"{sizes.per_conversation} messages per conversation). Errors: HTTP or network failures; no reply: "
                "a 200 with no message (the starter bot sometimes predicts only action_listen; the clinic bot "
                "must always answer).",
            ])
            # the clinic bot answers every message, so a silent answer counts as an error for it
            clinic_runs = (one["clinic"], many["clinic"])
            facts.update(ratio=ratio_many, errors=sum(len(r.errors) + r.silent for r in clinic_runs))
            if compare_only:
                if profile_lines:
                    report.add(f"Where the clinic Rasa server's CPU goes at {sizes.concurrent} concurrent (py-spy)",
                               profile_lines)
                return facts

            kb = run_load(ours.rasa_url, conversations(KB_QUESTIONS, 1, sizes.kb_sequential), 1, "clinic KB sequential")
            facts["kb_p95"] = kb.p95
            report.add("Knowledge-base answers, sequential (clinic bot)", [
                *LOAD_HEADER, load_row("clinic bot, KB questions only", kb)])

            growth = {name: run_load(url, conversations(messages[name], 1, sizes.long_conversation), 1,
                                     f"{name} long conversation") for name, url in urls.items()}
            last = sizes.long_conversation
            late = (max(1, last - 20), last)
            lines = [row("bot", "p50, messages 1-20", f"p50, messages {late[0]}-{late[1]}", "growth"),
                     "|---|---:|---:|---:|"]
            for name, result in growth.items():
                early_p50 = statistics.median(result.window(1, 20))
                late_p50 = statistics.median(result.window(*late))
                lines.append(row(name, ms(early_p50), ms(late_p50), f"{late_p50 / early_p50:.2f}x"))
            report.add(f"Latency growth over one {last}-message conversation", lines)

            lines = [row("process", "resident now", "peak resident", "time to ready (first reply)"),
                     "|---|---:|---:|---:|"]
            peaks = []
            for name, pid in ours.pids().items():
                now, peak = memory_mb(pid)
                if name == "rasa server":
                    peaks.append(peak)
                lines.append(row(f"clinic {name}", f"{now:.0f} MB", f"{peak:.0f} MB",
                                 f"{ready_ours:.1f} s" if name == "rasa server" else ""))
            now, peak = memory_mb(bare.process.pid)
            lines.append(row("bare rasa server", f"{now:.0f} MB", f"{peak:.0f} MB", f"{ready_bare:.1f} s"))
            report.add("Memory and start-up", lines)
            facts["rasa_peak_mb"] = max(peaks)
            if profile_lines:
                report.add(f"Where the clinic Rasa server's CPU goes at {sizes.concurrent} concurrent (py-spy)",
                           profile_lines)
        finally:
            if bare is not None:
                bare.stop()
            ours.stop()
    return facts


def scale_out(report: Report, sizes: Sizes) -> dict[str, float]:
    """Two Rasa servers (PostgreSQL + Redis) behind nginx: 32 concurrent through one server vs both."""
    from bot.devtools.scaleout import start_cluster

    note("starting PostgreSQL, Redis, two Rasa + action servers and nginx ...")
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as scratch:
        cluster = start_cluster(MODEL_FILE, servers=2, log_dir=Path(scratch))
        try:
            for group in ("one", "all"):
                run_load(cluster.url(group), conversations(OURS_MESSAGES, 4, 4), 4, f"{group} warm-up")
            scripts = conversations(OURS_MESSAGES, sizes.concurrent, sizes.per_conversation)
            results = alternate({"1 server": cluster.url("one"), "2 servers": cluster.url("all")},
                                {"1 server": scripts, "2 servers": scripts}, sizes.concurrent, sizes.rounds)
            ratio = results["2 servers"].rate / results["1 server"].rate
            memory = [f"{name}: {memory_mb(pid)[1]:.0f} MB peak" for name, pid in cluster.pids().items()]
        finally:
            cluster.stop()
    report.add("Scale-out: one vs two Rasa servers behind nginx (PostgreSQL tracker store, Redis lock store)", [
        *LOAD_HEADER, *(load_row(name, result) for name, result in results.items()), "",
        f"2 servers / 1 server: **{ratio:.2f}x** messages/s on {os.cpu_count()} cores "
        "(each Rasa server is one Python process, one core at most).", "",
        "Resident memory: " + "; ".join(memory) + "."])
    return {"scale_ratio": ratio}


def staff_list(report: Report, sizes: Sizes) -> dict[str, float]:
    """bench/staff_console.py in its own process (it seeds its own database)."""
    note(f"staff console: seeding {sizes.staff_conversations:,} conversations ...")
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run([sys.executable, "-m", "bench.staff_console", "--conversations",
                        str(sizes.staff_conversations), "--repeat", "20", "--json", out.name],
                       cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL)
        import json

        numbers = json.loads(Path(out.name).read_text())
    report.add(f"Staff console list at {sizes.staff_conversations:,} conversations (bench/staff_console.py)", [
        row("page", "p50", "p95"), "|---|---:|---:|",
        *(row(name, f"{v['p50']:.0f} ms", f"{v['p95']:.0f} ms") for name, v in numbers["pages"].items())])
    pages = numbers["pages"]
    return {"staff_p95": pages.get("list, page 1 (newest first)", {}).get("p95"),
            "staff_worst_p95": max(v["p95"] for v in pages.values())}


def start_profile(pid: int, scratch: str):
    from bench.profiling import start

    return start(pid, Path(scratch) / "profile.txt")


def finish_profile(profiler, keep: Path | None = None) -> list[str]:
    import shutil

    from bench.profiling import summarise

    lines = summarise(profiler)
    if keep is not None and profiler is not None and profiler.output.is_file():
        shutil.copyfile(profiler.output, keep)  # the raw collapsed stacks, for a closer look
    return lines


def targets(facts: dict[str, float]) -> list[str]:
    def check(ok: bool | None) -> str:
        return "not measured" if ok is None else ("met" if ok else "**not met**")

    def get(name: str):
        return facts.get(name)

    lines = [row("target", "measured", ""), "|---|---:|---|"]
    ratio, errors = get("ratio"), get("errors")
    lines.append(row(">= 2.0x the bare bot's messages/s at 32 concurrent", f"{ratio:.2f}x" if ratio else "-",
                     check(None if ratio is None else ratio >= 2.0)))
    lines.append(row("0 errors", f"{errors:.0f}" if errors is not None else "-",
                     check(None if errors is None else errors == 0)))
    kb = get("kb_p95")
    lines.append(row("sequential KB answer p95 <= 50 ms", ms(kb) if kb else "-",
                     check(None if kb is None else kb <= 0.05)))
    peak = get("rasa_peak_mb")
    lines.append(row("each Rasa process <= 1.2 GB resident", f"{peak:.0f} MB" if peak else "-",
                     check(None if peak is None else peak <= 1200)))
    staff = get("staff_p95")
    lines.append(row("staff list p95 <= 200 ms at 100k conversations (page 1)", f"{staff:.0f} ms" if staff else "-",
                     check(None if staff is None else staff <= 200)))
    worst = get("staff_worst_p95")
    if worst is not None:
        lines.append(row("  slowest filter/search/page of the list, p95", f"{worst:.0f} ms",
                         "met" if worst <= 200 else "over 200 ms"))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the bench itself")
    parser.add_argument("--profile", action="store_true", help="py-spy the clinic Rasa server under load")
    parser.add_argument("--skip-scaleout", action="store_true")
    parser.add_argument("--skip-staff", action="store_true")
    parser.add_argument("--compare-only", action="store_true",
                        help="only the side-by-side rounds, printed; REPORT.md is not written")
    parser.add_argument("--rounds", type=int, help="rounds of each side-by-side comparison")
    parser.add_argument("--profile-out", type=Path, help="keep py-spy's raw collapsed stacks in this file")
    args = parser.parse_args()
    sizes = QUICK if args.quick else Sizes()
    if args.rounds:
        sizes = replace(sizes, rounds=args.rounds)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = os.getloadavg()
    report = Report(header=[
        "# Benchmark (generated by `make bench`, bench/run.py)", "",
        f"Run {started} on {os.cpu_count()} cores, load average {load[0]:.1f} at the start"
        f"{' (--quick sizes)' if args.quick else ''}. Numbers are noisy when other work shares the machine; the "
        "bare bot runs beside this bot in the same rounds, so the ratio is the fairer number. "
        "How to read it and what was changed: docs/scaling.md."])
    if args.compare_only:
        report.path = None  # REPORT.md is the full run's
    facts = side_by_side(report, sizes, args.profile, args.compare_only, args.profile_out)
    if args.compare_only:
        return
    for skip, part in ((args.skip_scaleout, scale_out), (args.skip_staff, staff_list)):
        if skip:
            continue
        try:
            facts.update(part(report, sizes))
        except (RuntimeError, OSError, TimeoutError, subprocess.CalledProcessError) as error:
            # the rest of the bench still runs; the report says what is missing and why
            report.add(f"{part.__name__}: not measured", [f"`{type(error).__name__}: {error}`"])
    __import__("bench.faults").faults.add_fault_section(report)  # bench/faults.py: hung action server, restarts
    report.sections.insert(0, "\n".join(["## Targets", "", *targets(facts), ""]))
    print("\n" + report.sections[0])
    report.write()


if __name__ == "__main__":
    main()
