"""Security tests' fixtures: the protected bot (REST token required, a low per-address rate limit, DEBUG logging
asked for) on loopback, HTTP sessions bound to their own loopback source address (so each test has its own
rate-limit budget: Linux routes all of 127.0.0.0/8 to loopback), and reading the tracker store."""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import create_engine, text

from bot.build import MODEL_FILE
from bot.launcher import BotProcesses, start_bot

REST_PATH = "/webhooks/rest/webhook"
PROTECTED_RATE_LIMIT = 20  # per minute per address in the protected bot


@dataclass
class ProtectedBot:
    bot: BotProcesses
    token: str
    database_url: str
    log_dir: Path

    @property
    def rasa_url(self) -> str:
        return self.bot.rasa_url

    @property
    def rest_url(self) -> str:
        return f"{self.bot.rasa_url}{REST_PATH}"

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="session")
def protected_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProtectedBot]:
    """The bot as a clinic runs it beyond loopback: token required, rate limited; and with Rasa's, rasa_sdk's
    and Sanic's DEBUG logging asked for, which the log privacy patch must still keep out of the files."""
    if not MODEL_FILE.is_file():
        pytest.fail(f"{MODEL_FILE} is missing: run `make build` (make test does it) before the security tests")
    token = secrets.token_urlsafe(32)
    database_url = f"sqlite:///{tmp_path_factory.mktemp('protected') / 'clinic.db'}"
    log_dir = Path(tmp_path_factory.mktemp("protected-logs"))
    env = dict(os.environ, CLINIC_DATABASE_URL=database_url, CLINIC_REQUIRE_REST_TOKEN="1",
               CLINIC_REST_TOKEN=token, CLINIC_REST_ADDRESS_RATE_LIMIT=f"{PROTECTED_RATE_LIMIT}/minute",
               LOG_LEVEL="DEBUG", LOG_LEVEL_LIBRARIES="DEBUG")
    for name in ("CLINIC_ENV", "CLINIC_LOG_DEBUG", "CLINIC_ALLOWED_ORIGINS", "CLINIC_REDIS_URL"):
        env.pop(name, None)
    bot = start_bot(MODEL_FILE, env=env, log_dir=log_dir, with_web=False)
    try:
        bot.wait_until_ready(timeout=240)
        yield ProtectedBot(bot, token, database_url, log_dir)
    finally:
        bot.stop()


class SourceAddressAdapter(HTTPAdapter):
    """Connect from a given local address (e.g. 127.0.0.7): another client, as far as the server can tell."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def client_from(address: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", SourceAddressAdapter(address))
    return session


def stored_senders(database_url: str, fragment: str) -> set[str]:
    """Conversation ids in the tracker store that contain `fragment`."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT DISTINCT sender_id FROM events WHERE sender_id LIKE :f"),
                                      {"f": f"%{fragment}%"}).fetchall()
    finally:
        engine.dispose()
    return {row[0] for row in rows}
