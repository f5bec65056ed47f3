"""Settings the web app and profile read from the catalogue: the Rasa server's address (CLINIC_RASA_URL,
CLINIC_PUBLIC_RASA_URL) and the clinic profile file (CLINIC_PROFILE)."""
from __future__ import annotations

import json
import re

import pytest


def _widget_config(app) -> dict:  # noqa: ANN001 - a Flask app
    page = app.test_client().get("/").get_data(as_text=True)
    block = re.search(r'<script[^>]*type="application/json"[^>]*>(.*?)</script>', page, re.S)
    assert block, "the page carries the widget's settings as a JSON block"
    return json.loads(block.group(1))


def test_the_widget_reaches_the_public_address_when_one_is_set(app, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("CLINIC_PUBLIC_RASA_URL", raising=False)
    assert _widget_config(app)["rasaUrl"] == app.config["RASA_URL"]
    monkeypatch.setenv("CLINIC_PUBLIC_RASA_URL", "https://chat.clinic.example")
    assert _widget_config(app)["rasaUrl"] == "https://chat.clinic.example"


def test_the_web_app_takes_the_rasa_url_setting(staff_db, monkeypatch: pytest.MonkeyPatch):
    from bot.web.app import create_app

    monkeypatch.setenv("CLINIC_RASA_URL", "http://127.0.0.1:5999")
    assert create_app({"TESTING": True, "SECRET_KEY": "k" * 32}).config["RASA_URL"] == "http://127.0.0.1:5999"


def test_the_clinic_profile_file_is_the_profile_setting(tmp_path, monkeypatch: pytest.MonkeyPatch):
    from bot.clinic_profile import profile_path
    from bot.paths import PROJECT_ROOT

    monkeypatch.delenv("CLINIC_PROFILE", raising=False)
    assert profile_path() == PROJECT_ROOT / "clinic.yml"
    monkeypatch.setenv("CLINIC_PROFILE", str(tmp_path / "other.yml"))
    assert profile_path() == tmp_path / "other.yml"
