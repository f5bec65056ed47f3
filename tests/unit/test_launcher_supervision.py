"""The launcher's supervisor with real (tiny) processes: a service that exits is restarted after its backoff and
the restart is reported with the last lines of its log; repeated fast crashes end in a clear "giving up";
status() names the degraded part while the others stay up."""
from __future__ import annotations

import sys
import time

import pytest

from bot import launcher
from bot.launcher import BotProcesses, Service


def service(tmp_path, name: str, code: str) -> Service:
    return Service(name, [sys.executable, "-c", code], "http://127.0.0.1:9/none", tmp_path / f"{name}.log")


def run_rounds(bot: BotProcesses, seconds: float, reports: list[str]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        bot.supervise_once(reports.append)
        time.sleep(0.05)


@pytest.fixture
def quick_backoff(monkeypatch):
    monkeypatch.setattr(launcher, "RESTART_BACKOFF", (0.1, 0.2))
    monkeypatch.setattr(launcher, "MAX_FAST_CRASHES", 3)


def test_an_exited_service_is_restarted_and_the_restart_is_logged_with_its_log(tmp_path, quick_backoff):
    crashing = service(tmp_path, "flaky", "print('boom: the model file is missing', flush=True); raise SystemExit(3)")
    steady = service(tmp_path, "steady", "import time; time.sleep(60)")
    bot = BotProcesses(services=[crashing, steady])
    for s in bot.services:
        s.start({})
    reports: list[str] = []
    try:
        run_rounds(bot, 0.6, reports)
        assert crashing.restarts >= 1
        first = next(r for r in reports if "stopped" in r)
        assert "the flaky stopped (exit code 3" in first and "boom: the model file is missing" in first
        assert "restarting it in 0.1 s (restart 1)" in first  # the first step of the backoff
        assert steady.process.poll() is None and steady.restarts == 0  # the others are left alone
    finally:
        bot.stop()


def test_repeated_fast_crashes_end_in_giving_up_and_status_says_which_part(tmp_path, quick_backoff):
    crashing = service(tmp_path, "broken", "raise SystemExit(1)")
    steady = service(tmp_path, "steady", "import time; time.sleep(60)")
    bot = BotProcesses(services=[crashing, steady])
    for s in bot.services:
        s.start({})
    reports: list[str] = []
    try:
        run_rounds(bot, 3.0, reports)
        assert crashing.gave_up and crashing.restarts == 2  # 3 fast crashes: started, restarted twice, given up
        assert any(r.startswith("GIVING UP on the broken: it crashed 3 times in a row") for r in reports)
        status = bot.status()
        assert status["status"] == "degraded" and "broken" in status["degraded"]
        assert status["services"]["broken"]["state"] == "down (the supervisor gave up)"
        assert steady.process.poll() is None
    finally:
        bot.stop()


def test_a_service_that_ran_long_is_restarted_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(launcher, "STABLE_AFTER", 0.2)
    long_runner = service(tmp_path, "worker", "import time; time.sleep(0.4); raise SystemExit(0)")
    bot = BotProcesses(services=[long_runner])
    long_runner.start({})
    reports: list[str] = []
    try:
        run_rounds(bot, 0.8, reports)
        assert long_runner.restarts >= 1 and long_runner.fast_crashes == 0
        assert any("restarting it in 0 s" in r for r in reports)
    finally:
        bot.stop()


def test_stop_ends_supervision_before_stopping_services(tmp_path):
    steady = service(tmp_path, "steady", "import time; time.sleep(60)")
    bot = BotProcesses(services=[steady])
    steady.start({})
    thread = bot.supervise(interval=0.05)
    bot.stop()
    assert not thread.is_alive() and steady.process.poll() is not None and steady.restarts == 0
