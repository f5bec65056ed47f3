"""Outgoing delivery and webhook de-duplication without Rasa: retries against fake platforms (429 then 200,
5xx), what is recorded on the conversation, the escalation note and staff notification for undelivered
urgent advice, and delivery ids claimed once even by racing servers (SQLite here, PostgreSQL below)."""
from __future__ import annotations

import asyncio
import json
import threading
from datetime import timedelta

import pytest

from bot.channels import store
from bot.channels.common import ChannelAPIError
from bot.channels.delivery import report_undelivered
from bot.channels.telegram import ClinicTelegramOutput
from bot.channels.twilio_whatsapp import ClinicTwilioWhatsAppOutput
from bot.channels.whatsapp_cloud import WhatsAppCloudInput, WhatsAppCloudOutput, graph_base_url
from bot.db import make_engine
from bot.escalations import create_escalation, get_escalation
from tests.channels.fakes import FakeAPI
from tests.servers import postgres_server, postgres_url  # noqa: F401 - pytest fixtures

TOKEN = "123456:TEST-token"
URGENT = {"triage": {"level": "emergency"}}


@pytest.fixture
def fake():
    servers = []

    def start(kind: str) -> FakeAPI:
        servers.append(FakeAPI(kind).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def waits(monkeypatch):
    """The waits between attempts, recorded (and not slept, so the tests stay quick)."""
    asked: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float, *args, **kwargs):
        asked.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr("aiohttp_retry.client.asyncio.sleep", sleep)
    return asked


def test_telegram_429_is_retried_after_the_wait_telegram_asked_for(fake, waits):
    api = fake("telegram")
    api.fail_next("/sendMessage", api.too_many_requests(retry_after=2))
    asyncio.run(ClinicTelegramOutput(TOKEN, api.url).send_text_message("telegram:42", "Heel lifts can help."))
    sent = api.calls("/sendMessage")
    assert [r.status for r in sent] == [429, 200]
    assert sent[-1].json == {"chat_id": "42", "text": "Heel lifts can help."}
    assert waits == [2.0]
    assert [row["status"] for row in store.outgoing_for("telegram:42")] == ["sent"]


def test_5xx_is_retried_with_growing_backoff_then_delivered(fake, waits):
    api = fake("twilio")
    api.fail_next("/Messages.json", api.server_error(500), api.server_error(503))
    output = ClinicTwilioWhatsAppOutput("AC1", "token", "+14155238886", api.url)
    asyncio.run(output.send_text_message("twilio:+447700900123", "Heel lifts can help."))
    assert [r.status for r in api.calls("/Messages.json")] == [500, 503, 201]
    assert waits[0] < waits[1], f"backoff must grow: {waits}"
    [row] = store.outgoing_for("twilio:+447700900123")
    assert row["status"] == "sent" and row["platform_message_id"].startswith("SM")


def test_a_wait_longer_than_the_limit_is_not_waited_for(fake, waits, monkeypatch):
    monkeypatch.setenv("CLINIC_SEND_MAX_WAIT", "5")
    api = fake("telegram")
    api.fail_next("/sendMessage", api.too_many_requests(retry_after=600))
    with pytest.raises(ChannelAPIError) as failure:
        asyncio.run(ClinicTelegramOutput(TOKEN, api.url).send_text_message("telegram:42", "hello"))
    assert failure.value.status == 429 and len(api.calls("/sendMessage")) == 1 and waits == []


def test_undelivered_urgent_advice_is_recorded_marked_on_the_escalation_and_told_to_staff(
        fake, waits, monkeypatch):
    graph, staff_hook = fake("graph"), fake("graph")
    monkeypatch.setenv("CLINIC_STAFF_WEBHOOK_URL", f"{staff_hook.url}/staff")
    monkeypatch.setenv("CLINIC_SEND_ATTEMPTS", "3")
    graph.fail_next("/messages", *[graph.server_error(502)] * 3)
    output = WhatsAppCloudOutput("graph-token", "1234567890", graph.url)
    output.recorder.raise_failures = False  # as inside a webhook's turn: record and go on
    conversation = "whatsapp:+447700900123"
    asyncio.run(output.send_text_message(conversation, "Call 999 now.", **URGENT))
    assert len(graph.calls("/messages")) == 3, "bounded: exactly CLINIC_SEND_ATTEMPTS tries"
    [row] = store.outgoing_for(conversation)
    assert (row["status"], row["urgent_level"], row["attempts"]) == ("failed", "emergency", 3)
    # the error, never the message text ("999" alone could be part of the fake server's port)
    assert "502" in row["error"] and "Call 999 now" not in row["error"]

    escalation = create_escalation(conversation, "emergency", ["rupture"], "pop", channel="whatsapp")
    asyncio.run(report_undelivered(output.recorder))
    assert "URGENT ADVICE NOT DELIVERED" in get_escalation(escalation.id).notes
    [notified] = staff_hook.calls("/staff")
    assert notified.json["event"] == "urgent_advice_undelivered"
    assert notified.json["id"] == escalation.id and notified.json["conversation_id"] == conversation
    asyncio.run(report_undelivered(output.recorder))
    assert len(staff_hook.calls("/staff")) == 1, "each failure is reported once"


def test_a_failed_send_is_raised_outside_a_webhook_turn(fake, waits, monkeypatch):
    monkeypatch.setenv("CLINIC_SEND_ATTEMPTS", "2")
    api = fake("telegram")
    api.fail_next("/sendMessage", api.server_error(500), api.server_error(500))
    with pytest.raises(ChannelAPIError, match="after 2 attempt"):
        asyncio.run(ClinicTelegramOutput(TOKEN, api.url).send_text_message("telegram:7", "staff reply"))
    assert [row["status"] for row in store.outgoing_for("telegram:7")] == ["failed"]


def test_graph_api_version_is_a_setting(monkeypatch):
    monkeypatch.delenv("WHATSAPP_GRAPH_API_URL", raising=False)
    assert graph_base_url() == "https://graph.facebook.com/v23.0"
    monkeypatch.setenv("CLINIC_WHATSAPP_GRAPH_VERSION", "v24.0")
    assert graph_base_url() == "https://graph.facebook.com/v24.0"
    assert graph_base_url("http://127.0.0.1:9/v21.0") == "http://127.0.0.1:9/v21.0"  # explicit version kept


def test_meta_statuses_are_read_and_a_failure_updates_the_record():
    store.record_outgoing("whatsapp:+447700900123", "whatsapp", "sent", platform_message_id="wamid.A1",
                          urgent_level="same_day")
    payload = {"entry": [{"changes": [{"value": {"statuses": [
        {"id": "wamid.A1", "status": "failed", "recipient_id": "447700900123",
         "errors": [{"code": 131047, "title": "Re-engagement message"}]},
        {"id": 5, "status": "read"}, "not a status"]}}]}]}
    assert WhatsAppCloudInput.statuses(payload) == [("wamid.A1", "failed", "131047: Re-engagement message")]
    row = store.update_status("whatsapp", "wamid.A1", "failed", "131047: Re-engagement message")
    assert row.urgent_level == "same_day"
    assert store.outgoing_for("whatsapp:+447700900123")[0]["status"] == "failed"
    assert store.update_status("whatsapp", "wamid.unknown", "read") is None


# ---- de-duplication -------------------------------------------------------------------------------------

def race(url: str, servers: int = 4) -> list[bool]:
    """`servers` engines (as several Rasa servers would have) claim the same id at the same moment."""
    engines = [make_engine(url) for _ in range(servers)]
    store.WebhookDelivery.__table__.create(engines[0], checkfirst=True)
    barrier, results = threading.Barrier(servers), []

    def claim(engine):
        barrier.wait()
        results.append(store.claim_delivery("telegram", "update-77", engine=engine))

    threads = [threading.Thread(target=claim, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for engine in engines:
        engine.dispose()
    return results


def test_a_delivery_id_is_claimed_once_even_by_racing_servers_sqlite(clinic_db):
    assert sorted(race(clinic_db)) == [False, False, False, True]
    assert store.claim_delivery("twilio", "update-77"), "ids are per channel"
    assert not store.claim_delivery("telegram", "update-77")


@pytest.mark.postgres
def test_a_delivery_id_is_claimed_once_even_by_racing_servers_postgres(postgres_url):  # noqa: F811
    assert sorted(race(postgres_url)) == [False, False, False, True]


def test_delivery_ids_are_forgotten_after_the_retention_window(clinic_db, monkeypatch):
    monkeypatch.setenv("CLINIC_WEBHOOK_DEDUP_DAYS", "2")
    assert store.claim_delivery("whatsapp", "wamid.old")
    assert store.prune_deliveries(now=store.utcnow() + timedelta(days=1)) == 0
    assert not store.claim_delivery("whatsapp", "wamid.old"), "still inside the window"
    assert store.prune_deliveries(now=store.utcnow() + timedelta(days=3)) == 1
    assert store.claim_delivery("whatsapp", "wamid.old"), "past the window it is new again"


def test_released_delivery_is_processed_when_it_comes_again(clinic_db):
    assert store.claim_delivery("telegram", "9")
    store.release_delivery("telegram", "9")
    assert store.claim_delivery("telegram", "9")
    assert json.dumps(store.outgoing_for("telegram:9")) == "[]"
