"""The yardstick: a bare `rasa init --no-prompt` bot (DIET + TED, in-memory tracker), built once and cached.

The folder is made by the Rasa installed here (`rasa init` writes the starter project and trains it, nothing
is downloaded) in a temporary folder, then moved to build/bench/bare-rasa-<version>/ so later runs reuse it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from bot.launcher import LOOPBACK, Service
from bot.paths import BUILD_DIR

CACHE_DIR = BUILD_DIR / "bench"

# What a user says to the starter bot (its intents: greet, mood_great, mood_unhappy, affirm, deny, bot_challenge,
# goodbye), in words of our own.
MESSAGES = ["hello there", "i am feeling really good today", "are you a real person?", "yes please",
            "i feel quite sad", "no thanks", "good morning", "bye for now"]


def bare_env() -> dict[str, str]:
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("PYTHONPATH", None)
    return env


def bare_bot_dir(progress=print) -> Path:
    """The cached, trained starter bot (built now if missing); its models/ holds one model archive."""
    target = CACHE_DIR / f"bare-rasa-{metadata.version('rasa')}"
    if list((target / "models").glob("*.tar.gz")):
        return target
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="bare-rasa-", dir=CACHE_DIR))
    progress(f"building the bare `rasa init --no-prompt` bot in {scratch} (once; about 2-4 min on 2 cores)")
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(scratch)],
                            cwd=scratch, env=bare_env(), capture_output=True, text=True)
    if result.returncode != 0 or not list((scratch / "models").glob("*.tar.gz")):
        shutil.rmtree(scratch, ignore_errors=True)
        raise RuntimeError(f"`rasa init --no-prompt` failed ({result.returncode}):\n{result.stdout[-2000:]}\n"
                           f"{result.stderr[-2000:]}")
    shutil.rmtree(target, ignore_errors=True)
    scratch.rename(target)
    progress(f"bare bot trained in {time.monotonic() - start:.0f} s, cached in {target}")
    return target


def bare_service(folder: Path, port: int, log_dir: Path) -> Service:
    """The starter bot's Rasa server on loopback (REST channel from its own credentials.yml)."""
    model = sorted((folder / "models").glob("*.tar.gz"))[-1]
    return Service("bare rasa server",
                   [sys.executable, "-m", "rasa", "run", "--model", str(model), "--interface", LOOPBACK,
                    "--port", str(port), "--credentials", str(folder / "credentials.yml"),
                    "--endpoints", str(folder / "endpoints.yml")],
                   f"http://{LOOPBACK}:{port}/", log_dir / "bare-rasa.log")


if __name__ == "__main__":
    print(bare_bot_dir())
