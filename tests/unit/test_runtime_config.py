"""Channels switch on with their environment variables; runtime endpoints point at the right servers."""
from __future__ import annotations

import yaml

from bot.runtime_config import plan_channels, redis_lock_store, write_runtime_files


def test_channels_without_their_variables_are_off_and_reported(tmp_path):
    credentials = tmp_path / "credentials.yml"
    credentials.write_text(
        "rest:\nsocketio:\n  session_persistence: true\n"
        "telegram:\n  access_token: ${TG_TOKEN}\n  verify: ${TG_NAME}\n"
    )
    plan = plan_channels(credentials, environ={"TG_TOKEN": "abc"})
    assert plan.enabled == ["rest", "socketio"]
    assert plan.disabled == {"telegram": ["TG_NAME"]}


def test_channel_variables_are_substituted_when_set(tmp_path):
    credentials = tmp_path / "credentials.yml"
    credentials.write_text("telegram:\n  access_token: ${TG_TOKEN}\n  webhook_url: https://x/${TG_NAME}\n")
    plan = plan_channels(credentials, environ={"TG_TOKEN": "abc", "TG_NAME": "clinicbot"})
    assert plan.credentials["telegram"] == {"access_token": "abc", "webhook_url": "https://x/clinicbot"}


def test_runtime_endpoints_use_the_action_port_and_redis_when_configured(tmp_path, monkeypatch):
    monkeypatch.setenv("CLINIC_REDIS_URL", "redis://:pw@127.0.0.1:6390/2")
    plan = plan_channels(environ={})
    endpoints_file, credentials_file = write_runtime_files(5999, plan, folder=tmp_path)
    endpoints = yaml.safe_load(endpoints_file.read_text())
    assert endpoints["action_endpoint"]["url"] == "http://127.0.0.1:5999/webhook"
    assert endpoints["lock_store"] == {"type": "redis", "url": "127.0.0.1", "port": 6390, "db": 2,
                                       "key_prefix": "clinic", "password": "pw"}
    assert endpoints["tracker_store"]["type"] == "bot.tracker_store.ClinicSQLTrackerStore"
    assert oct(credentials_file.stat().st_mode & 0o777) == "0o600"


def test_redis_url_defaults():
    assert redis_lock_store("redis://localhost") == {"type": "redis", "url": "localhost", "port": 6379,
                                                     "db": 0, "key_prefix": "clinic"}
