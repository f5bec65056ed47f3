"""`python -m bot run` (what `make run` starts): prints where to talk, answers over REST, Ctrl-C stops it all."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from bot.launcher import LOOPBACK, free_port
from bot.paths import PROJECT_ROOT

pytestmark = pytest.mark.e2e


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((LOOPBACK, port)) == 0


def test_bot_run_serves_every_part_and_ctrl_c_stops_them(tmp_path):
    ports = {"rasa": free_port(), "action": free_port(), "web": free_port()}
    env = dict(os.environ, CLINIC_DATABASE_URL=f"sqlite:///{tmp_path / 'clinic.db'}", PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--rasa-port", str(ports["rasa"]),
         "--action-port", str(ports["action"]), "--web-port", str(ports["web"])],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            output.append(line)
            if "Press Ctrl-C" in line:
                break
        printed = "".join(output)
        assert "Press Ctrl-C" in printed, printed[-3000:]
        assert f"http://localhost:{ports['web']}/" in printed and "staff console" in printed
        if not os.environ.get("TELEGRAM_TOKEN"):
            assert "channel off:  telegram (set TELEGRAM_" in printed

        replies = requests.post(f"http://{LOOPBACK}:{ports['rasa']}/webhooks/rest/webhook",
                                json={"sender": "make-run", "message": "do heel lifts help?"}, timeout=60).json()
        assert any("Sources:" in (reply.get("text") or "") for reply in replies)
        assert requests.get(f"http://{LOOPBACK}:{ports['web']}/", timeout=10).status_code == 200

        process.send_signal(signal.SIGINT)  # what Ctrl-C sends
        assert process.wait(timeout=60) == 0
        rest = process.stdout.read()
        assert "all processes stopped" in rest
        time.sleep(1)
        assert not any(port_is_open(port) for port in ports.values()), "a server outlived Ctrl-C"
    finally:
        if process.poll() is None:
            process.kill()
