"""Start, watch and stop the bot's processes (action server, Rasa server, website/staff console) on loopback."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bot.paths import PROJECT_ROOT, VAR_DIR

LOOPBACK = "127.0.0.1"


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

    def start(self, env: dict[str, str]) -> None:
        self.env = env
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_file, "ab")
        self.process = subprocess.Popen(
            self.command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: Ctrl-C is handled by us, and we stop it whole
        )

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
                if service.process is not None and service.process.poll() is not None:
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

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()

    def pids(self) -> dict[str, int]:
        return {s.name: s.process.pid for s in self.services if s.process is not None}


def start_bot(model: Path, rasa_port: int | None = None, action_port: int | None = None,
              web_port: int | None = None, with_web: bool = True, env: dict[str, str] | None = None,
              log_dir: Path | None = None) -> BotProcesses:
    """Start the action server, the Rasa server (REST + socketio + configured channels) and the web app."""
    from bot.runtime_config import plan_channels, write_runtime_files

    env = dict(os.environ if env is None else env)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    log_dir = log_dir or VAR_DIR / "logs"
    bot = BotProcesses(rasa_port=rasa_port or free_port(), action_port=action_port or free_port())
    plan = plan_channels(environ=env)
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
         "--credentials", str(credentials_file), "--cors", "*"],
        f"http://{LOOPBACK}:{bot.rasa_port}/", log_dir / "rasa.log"))
    if with_web:
        bot.web_port = web_port or free_port()
        env["CLINIC_RASA_URL"] = bot.rasa_url
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
