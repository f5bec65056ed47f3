"""A second real bot (action server + Rasa) with Telegram and both WhatsApp channels on, talking to fake
platform APIs on loopback. Started once per test session, only when a test asks for `channel_bot`
(tests/channels, tests/faults, tests/security; tests/conftest.py imports the fixture so there is one)."""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.build import MODEL_FILE
from bot.launcher import BotProcesses, start_bot
from tests.channels.fakes import FakeAPI

PUBLIC_HOST = "https://clinic.example.org"  # what Telegram/Twilio/Meta would call through a tunnel
TELEGRAM_LIMIT = 500
TWILIO_LIMIT = 400
SENDER_RATE_LIMIT = 8  # messages per minute per sender in this bot (CLINIC_SENDER_RATE_LIMIT)


@dataclass
class ChannelBot:
    bot: BotProcesses
    telegram: FakeAPI
    twilio: FakeAPI
    graph: FakeAPI
    env: dict[str, str]
    database_url: str

    @property
    def rasa_url(self) -> str:
        return self.bot.rasa_url


@pytest.fixture(scope="session")
def channel_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChannelBot]:
    if not MODEL_FILE.is_file():
        pytest.fail(f"{MODEL_FILE} is missing: run `make build` (make test does it) before the e2e tests")
    fakes = {kind: FakeAPI(kind).start() for kind in ("telegram", "twilio", "graph")}
    database_url = f"sqlite:///{tmp_path_factory.mktemp('channels') / 'clinic.db'}"
    env = dict(
        os.environ,
        CLINIC_DATABASE_URL=database_url,
        TELEGRAM_TOKEN="123456789:AAF-fake-telegram-token",
        TELEGRAM_VERIFY="riverside_clinic_bot",
        TELEGRAM_WEBHOOK_URL=f"{PUBLIC_HOST}/webhooks/telegram/webhook",
        TELEGRAM_SECRET_TOKEN="test-secret_token-0123456789",
        TELEGRAM_API_URL=fakes["telegram"].url,
        TWILIO_ACCOUNT_SID="AC00000000000000000000000000000001",
        TWILIO_AUTH_TOKEN="fake-twilio-auth-token",
        TWILIO_WHATSAPP_NUMBER="+14155238886",
        TWILIO_WEBHOOK_URL=f"{PUBLIC_HOST}/webhooks/twilio/webhook",
        TWILIO_API_URL=fakes["twilio"].url,
        WHATSAPP_ACCESS_TOKEN="fake-graph-token",
        WHATSAPP_PHONE_NUMBER_ID="109876543210",
        WHATSAPP_VERIFY_TOKEN="fake-verify-token",
        WHATSAPP_APP_SECRET="fake-app-secret",
        WHATSAPP_GRAPH_API_URL=fakes["graph"].url,
        # Smaller than the platforms' limits (4096, 1600) so that real answers are split end to end.
        TELEGRAM_MESSAGE_LIMIT=str(TELEGRAM_LIMIT),
        TWILIO_MESSAGE_LIMIT=str(TWILIO_LIMIT),
        CLINIC_SENDER_RATE_LIMIT=f"{SENDER_RATE_LIMIT}/minute",
        # Every test connects from 127.0.0.1: new widget sessions per address are limited far above what the
        # tests open (the limiter itself: tests/channels/test_limits.py).
        CLINIC_SOCKET_SESSION_RATE_LIMIT="1000/minute",
        CLINIC_SEND_MAX_WAIT="3",  # a fake platform's retry_after above this is not waited for
        # These tests are about the channels, not the action timeout: on a loaded 2-core CI machine the first
        # answers can take longer than the production default of 5 s.
        CLINIC_ACTION_TIMEOUT=os.environ.get("CLINIC_ACTION_TIMEOUT", "30"),
    )
    log_dir = Path(tmp_path_factory.mktemp("channel-logs"))
    bot = start_bot(MODEL_FILE, env=env, with_web=False, log_dir=log_dir)
    try:
        bot.wait_until_ready(timeout=300)
        yield ChannelBot(bot, fakes["telegram"], fakes["twilio"], fakes["graph"], env, database_url)
    finally:
        bot.stop()
        for fake in fakes.values():
            fake.stop()
