"""Cross-origin access only for the clinic's own origins (bot/server/cors.py): HTTP routes through Sanic-CORS,
socket.io through engineio's origin check; never `*`."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest
import requests

from bot.server.cors import allowed_origins
from bot.server.security_settings import SecuritySettings
from tests.security.conftest import REST_PATH

pytestmark = pytest.mark.security

EVIL = "https://evil.example"
ACAO = "Access-Control-Allow-Origin"


def demo_origins(running_bot) -> list[str]:
    """The demo page's origins as a browser names them (the launcher's default CLINIC_ALLOWED_ORIGINS)."""
    return [running_bot.web_url, running_bot.web_url.replace("127.0.0.1", "localhost")]


def preflight(url: str, origin: str) -> requests.Response:
    return requests.options(url, headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                          "Access-Control-Request-Headers": "content-type"}, timeout=10)


def test_a_preflight_from_another_site_is_refused(running_bot):
    response = preflight(f"{running_bot.rasa_url}{REST_PATH}", EVIL)
    assert ACAO not in response.headers, response.headers
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize("which", [0, 1], ids=["127.0.0.1", "localhost"])
def test_a_preflight_from_the_demo_page_is_allowed(running_bot, which):
    origin = demo_origins(running_bot)[which]
    response = preflight(f"{running_bot.rasa_url}{REST_PATH}", origin)
    assert response.headers.get(ACAO) == origin
    assert "POST" in response.headers.get("Access-Control-Allow-Methods", "")


def test_another_sites_page_cannot_read_replies(running_bot):
    response = requests.post(f"{running_bot.rasa_url}{REST_PATH}", json={"sender": "cors-x", "message": "hi"},
                             headers={"Origin": EVIL}, timeout=60)
    assert ACAO not in response.headers  # the browser withholds the answer from evil.example's script
    response = requests.post(f"{running_bot.rasa_url}{REST_PATH}", json={"sender": "cors-y", "message": "hi"},
                             headers={"Origin": demo_origins(running_bot)[0]}, timeout=60)
    assert response.headers.get(ACAO) == demo_origins(running_bot)[0]


def polling_handshake(rasa_url: str, origin: str) -> requests.Response:
    return requests.get(f"{rasa_url}/socket.io/", params={"EIO": "4", "transport": "polling"},
                        headers={"Origin": origin}, timeout=10)


def test_socketio_refuses_another_sites_origin(running_bot):
    response = polling_handshake(running_bot.rasa_url, EVIL)
    assert response.status_code == 400
    assert ACAO not in response.headers
    assert '"sid"' not in response.text


def test_socketio_accepts_the_demo_page_with_one_cors_header(running_bot):
    origin = demo_origins(running_bot)[0]
    response = polling_handshake(running_bot.rasa_url, origin)
    assert response.status_code == 200 and '"sid"' in response.text
    # one header, from engineio (two would make the browser refuse the answer)
    assert response.raw.headers.getlist(ACAO) == [origin]


def websocket_opens(rasa_url: str, origin: str) -> bool:
    async def attempt() -> bool:
        url = rasa_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(url, origin=origin, timeout=10) as ws:
                    message = await ws.receive(timeout=10)
                    return message.type == aiohttp.WSMsgType.TEXT and message.data.startswith("0")
            except aiohttp.WSServerHandshakeError:
                return False

    return asyncio.run(attempt())


def test_socketio_websocket_from_another_site_is_refused(running_bot):
    assert websocket_opens(running_bot.rasa_url, demo_origins(running_bot)[0])  # the check can fail
    assert not websocket_opens(running_bot.rasa_url, EVIL)


@pytest.mark.parametrize("env, cli", [
    ({"CLINIC_ALLOWED_ORIGINS": "*"}, None),
    ({}, "*"),
    ({}, ["https://clinic.example", "*"]),
    ({"CLINIC_ALLOWED_ORIGINS": "https://*.example"}, None),
    ({"CLINIC_ALLOWED_ORIGINS": "clinic.example"}, None),  # no scheme: would never match a browser's Origin
])
def test_wildcards_and_malformed_origins_stop_the_server(env, cli):
    with pytest.raises(SystemExit) as refused:
        allowed_origins(cli, SecuritySettings.from_env(env))
    assert "CLINIC_ALLOWED_ORIGINS" in str(refused.value)


def test_the_setting_wins_over_the_command_line():
    settings = SecuritySettings.from_env({"CLINIC_ALLOWED_ORIGINS": "https://clinic.example, https://www.clinic.example/"})
    assert allowed_origins("https://other.example", settings) == ["https://clinic.example", "https://www.clinic.example"]
    assert allowed_origins(None, SecuritySettings.from_env({})) == []  # nothing configured: no cross-origin access
