"""The channel tests' fixtures: `channel_bot` lives in tests/channel_bot.py (shared with tests/faults and
tests/security through tests/conftest.py); connector tests get a throwaway clinic database."""
from __future__ import annotations

import pytest

from tests.channel_bot import PUBLIC_HOST, SENDER_RATE_LIMIT, TELEGRAM_LIMIT, TWILIO_LIMIT, ChannelBot

__all__ = ["PUBLIC_HOST", "SENDER_RATE_LIMIT", "TELEGRAM_LIMIT", "TWILIO_LIMIT", "ChannelBot"]


@pytest.fixture(autouse=True)
def _clinic_database(clinic_db: str) -> str:
    """Connector tests that record deliveries write to a throwaway database, never var/clinic.db."""
    return clinic_db
