"""Start the real action server, Rasa server and web app on free loopback ports, once per test session."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.build import MODEL_FILE
from bot.launcher import BotProcesses, start_bot


@pytest.fixture(scope="session")
def e2e_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'clinic.db'}"


@pytest.fixture(scope="session")
def running_bot(e2e_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcesses]:
    if not MODEL_FILE.is_file():
        pytest.fail(f"{MODEL_FILE} is missing: run `make build` (make test does it) before the e2e tests")
    env = dict(os.environ, CLINIC_DATABASE_URL=e2e_database_url)
    bot = start_bot(MODEL_FILE, env=env, log_dir=Path(tmp_path_factory.mktemp("logs")))
    try:
        bot.wait_until_ready(timeout=240)
        yield bot
    finally:
        bot.stop()
