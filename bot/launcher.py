"""Start, watch and stop the bot's processes (action server, Rasa server, website/staff console) on loopback.

Supervision: `BotProcesses.supervise()` restarts a service that exits, after a backoff that doubles with each
fast crash (RESTART_BACKOFF), logging each restart with the last lines of its log; after MAX_FAST_CRASHES exits
in a row that each came within STABLE_AFTER seconds of the start, it gives up on that service and says so. The
other services keep running, and `status()` reports which parts are ready and which are degraded.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bot.paths import PROJECT_ROOT, VAR_DIR

LOOPBACK = "127.0.0.1"
RESTART_BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)  # seconds before the 1st, 2nd, ... restart after fast crashes
STABLE_AFTER = 60.0    # a service that ran this long before exiting is restarted at once, its count reset
MAX_FAST_CRASHES = 5   # fast crashes in a row before the supervisor gives up on a service

logger = logging.getLogger("clinic.launcher")


def free_port() -> int:
    """A TCP port that is free on loopback right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


@dataclass
class Service:
    name: str
    command: list[str]
    health_url: str
    log_file: Path
    process: subprocess.Popen | None = None
    env: dict[str, str] = field(default_factory=dict)
    started_at: float = 0.0
    restarts: int = 0             # restarts by the supervisor since the bot started
    fast_crashes: int = 0         # exits in a row, each soon after its start
    restart_at: float | None = None  # when the supervisor starts it again (after an exit)
    gave_up: bool = False
    last_exit: str = ""

    def start(self, env: dict[str, str]) -> None:
        self.env = env
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                self.command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: Ctrl-C is handled by us, and we stop it whole
            )
        self.started_at = time.monotonic()

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def is_ready(self) -> bool:
        try:
            return requests.get(self.health_url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def stop(self, grace: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


@dataclass
class BotProcesses:
    """The running bot: every service it started, stopped together."""

    services: list[Service] = field(default_factory=list)
    rasa_port: int = 0
    action_port: int = 0
    web_port: int | None = None
    _stopping: threading.Event = field(default_factory=threading.Event, repr=False)
    _supervisor: threading.Thread | None = field(default=None, repr=False)

    @property
    def action_url(self) -> str:
        return f"http://{LOOPBACK}:{self.action_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://{LOOPBACK}:{self.rasa_port}"

    @property
    def web_url(self) -> str | None:
        return f"http://{LOOPBACK}:{self.web_port}" if self.web_port else None

    def wait_until_ready(self, timeout: float = 300.0) -> float:
        """Block until every service answers its health URL; return the seconds it took."""
        start = time.monotonic()
        pending = list(self.services)
        while pending:
            for service in list(pending):
                supervised = self._supervisor is not None and not service.gave_up
                if service.exited() and not supervised:
                    raise RuntimeError(f"{service.name} exited with code {service.process.returncode}; "
                                       f"last lines of {service.log_file}:\n{service.log_tail()}")
                if service.is_ready():
                    pending.remove(service)
            if pending and time.monotonic() - start > timeout:
                names = ", ".join(service.name for service in pending)
                raise TimeoutError(f"{names} not ready after {timeout:.0f} s; see the logs in {VAR_DIR}/logs")
            if pending:
                time.sleep(0.5)
        return time.monotonic() - start

    def first_exited(self) -> Service | None:
        return next((s for s in self.services if s.process is not None and s.process.poll() is not None), None)

    def service(self, name: str) -> Service:
        """The service called `name` (or whose name starts with it: "action", "rasa", "website")."""
        for service in self.services:
            if service.name == name or service.name.startswith(name):
                return service
        raise KeyError(f"no service {name!r}; the services are {', '.join(s.name for s in self.services)}")

    # --- supervision -----------------------------------------------------------------------------------------
    def supervise_once(self, report: Callable[[str], None] | None = None) -> None:
        """One round: note services that exited, schedule their restart (backoff), start those that are due."""
        report = report or logger.warning
        now = time.monotonic()
        for service in self.services:
            if service.gave_up or self._stopping.is_set():
                continue
            if service.restart_at is None and service.exited():
                ran = now - service.started_at
                service.last_exit = f"exit code {service.process.returncode} after {ran:.0f} s"
                service.fast_crashes = service.fast_crashes + 1 if ran < STABLE_AFTER else 0
                if service.fast_crashes >= MAX_FAST_CRASHES:
                    service.gave_up = True
                    report(f"GIVING UP on the {service.name}: it crashed {service.fast_crashes} times in a row, "
                           f"each within {STABLE_AFTER:.0f} s of starting ({service.last_exit}). The other parts "
                           f"keep running; fix the cause (log {service.log_file}) and restart the bot.\n"
                           f"last lines of its log:\n{service.log_tail()}")
                    continue
                delay = 0.0 if service.fast_crashes == 0 else \
                    RESTART_BACKOFF[min(service.fast_crashes, len(RESTART_BACKOFF)) - 1]
                service.restart_at = now + delay
                report(f"the {service.name} stopped ({service.last_exit}); restarting it in {delay:g} s "
                       f"(restart {service.restarts + 1}). Last lines of {service.log_file}:\n{service.log_tail(15)}")
            if service.restart_at is not None and now >= service.restart_at:
                service.restart_at = None
                service.restarts += 1
                service.start(service.env)
                report(f"the {service.name} was started again (pid {service.process.pid})")

    def supervise(self, report: Callable[[str], None] | None = None, interval: float = 0.5) -> threading.Thread:
        """Watch and restart the services in a background thread until stop()."""
        def loop() -> None:
            while not self._stopping.wait(interval):
                try:
                    self.supervise_once(report)
                except Exception:  # noqa: BLE001 - the supervisor must outlive one bad round
                    logger.exception("supervisor round failed")
        thread = threading.Thread(target=loop, name="clinic-supervisor", daemon=True)
        thread.start()
        self._supervisor = thread
        return thread

    def status(self) -> dict:
        """Readiness: each service ready / starting / restarting / down, and the whole bot ready or degraded."""
        parts = {}
        for service in self.services:
            if service.gave_up:
                state = "down (the supervisor gave up)"
            elif service.restart_at is not None or service.exited():
                state = "restarting"
            elif service.is_ready():
                state = "ready"
            else:
                state = "not answering"
            parts[service.name] = {"state": state, "pid": service.process.pid if service.process else None,
                                   "restarts": service.restarts, "last_exit": service.last_exit or None}
        degraded = sorted(name for name, part in parts.items() if part["state"] != "ready")
        return {"status": "degraded" if degraded else "ready", "degraded": degraded, "services": parts}

    def stop(self) -> None:
        self._stopping.set()
        if self._supervisor is not None and self._supervisor is not threading.current_thread():
            self._supervisor.join(timeout=5)
        for service in reversed(self.services):
            service.stop()

    def pids(self) -> dict[str, int]:
        return {s.name: s.process.pid for s in self.services if s.process is not None}


def health_urls(rasa_port: int, action_port: int, web_port: int | None = None,
                host: str = LOOPBACK) -> dict[str, str]:
    """The health URL of each part, by the short names `bot status --only` takes."""
    urls = {"actions": f"http://{host}:{action_port}/health", "rasa": f"http://{host}:{rasa_port}/"}
    if web_port:
        urls["web"] = f"http://{host}:{web_port}/healthz"
    return urls


def probe_status(rasa_port: int, action_port: int, web_port: int | None = None, only: str | None = None,
                 host: str = LOOPBACK, timeout: float = 3.0) -> dict:
    """Readiness of a bot run elsewhere (systemd, another shell): which parts answer their health URL."""
    parts = {}
    for name, url in health_urls(rasa_port, action_port, web_port, host).items():
        if only and name != only:
            continue
        try:
            code = requests.get(url, timeout=timeout).status_code
            state = "ready" if code == 200 else f"degraded (HTTP {code})"
        except requests.RequestException as error:
            state = f"down ({type(error).__name__})"
        parts[name] = {"state": state, "url": url}
    degraded = sorted(name for name, part in parts.items() if part["state"] != "ready")
    return {"status": "degraded" if degraded else "ready", "degraded": degraded, "services": parts}


def migrate_database(env: dict[str, str]) -> None:
    """Bring the clinic database to the newest schema before any service writes to it (an escalation written
    by an action server that started on an older table would fail). Quick when there is nothing to do."""
    from bot.db import engine_for
    from bot.migrations import upgrade

    upgrade(engine_for(env.get("CLINIC_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'clinic.db'}"))


def start_bot(model: Path, rasa_port: int | None = None, action_port: int | None = None,
              web_port: int | None = None, with_web: bool = True, env: dict[str, str] | None = None,
              log_dir: Path | None = None) -> BotProcesses:
    """Start the action server, the Rasa server (REST + socketio + configured channels) and the web app."""
    from bot.runtime_config import plan_channels, write_runtime_files

    env = dict(os.environ if env is None else env)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault("SANIC_HOST", LOOPBACK)  # rasa_sdk's action server binds SANIC_HOST, else 0.0.0.0 (docs/security.md)
    log_dir = log_dir or VAR_DIR / "logs"
    bot = BotProcesses(rasa_port=rasa_port or free_port(), action_port=action_port or free_port())
    plan = plan_channels(environ=env)
    migrate_database(env)
    endpoints_file, credentials_file = write_runtime_files(bot.action_port, plan)
    python = sys.executable
    bot.services.append(Service(
        "action server",
        [python, "-m", "rasa_sdk", "--actions", "actions", "--port", str(bot.action_port)],
        f"http://{LOOPBACK}:{bot.action_port}/health", log_dir / "actions.log"))
    bot.services.append(Service(
        "rasa server",
        [python, "-m", "bot.server", "run", "--model", str(model), "--interface", LOOPBACK,
         "--port", str(bot.rasa_port), "--endpoints", str(endpoints_file),
         "--credentials", str(credentials_file)],  # cross-origin: CLINIC_ALLOWED_ORIGINS (bot/server/cors.py)
        f"http://{LOOPBACK}:{bot.rasa_port}/", log_dir / "rasa.log"))
    if with_web:
        bot.web_port = web_port or free_port()
        env["CLINIC_RASA_URL"] = bot.rasa_url
        env.setdefault("CLINIC_ALLOWED_ORIGINS", f"http://{LOOPBACK}:{bot.web_port},http://localhost:{bot.web_port}")
        bot.services.append(Service(
            "website and staff console",
            [python, "-m", "bot.web", "--host", LOOPBACK, "--port", str(bot.web_port)],
            f"http://{LOOPBACK}:{bot.web_port}/healthz", log_dir / "web.log"))
    bot.plan = plan  # type: ignore[attr-defined]
    try:
        for service in bot.services:
            service.start(env)
    except Exception:
        bot.stop()
        raise
    return bot
