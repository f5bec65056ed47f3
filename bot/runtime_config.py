"""Runtime endpoints and credentials: channels switched on by their environment variables, ports by arguments."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from bot.paths import PROJECT_ROOT, VAR_DIR
from bot.settings import redis_url

ENV_REFERENCE = re.compile(r"\$\{([A-Z0-9_]+)\}")


@dataclass
class ChannelPlan:
    """Which channels of credentials.yml are on, and why the others are off."""

    credentials: dict = field(default_factory=dict)
    enabled: list[str] = field(default_factory=list)
    disabled: dict[str, list[str]] = field(default_factory=dict)  # channel -> missing variables


def _substitute(value, environ):
    if isinstance(value, str):
        return ENV_REFERENCE.sub(lambda match: environ[match.group(1)], value)
    if isinstance(value, dict):
        return {key: _substitute(item, environ) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, environ) for item in value]
    return value


def _references(value) -> set[str]:
    if isinstance(value, str):
        return set(ENV_REFERENCE.findall(value))
    if isinstance(value, dict):
        return set().union(*(_references(item) for item in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_references(item) for item in value)) if value else set()
    return set()


def plan_channels(credentials_file: Path = PROJECT_ROOT / "credentials.yml",
                  environ: dict[str, str] | None = None) -> ChannelPlan:
    """Keep every channel whose ${VARIABLES} are all set; the rest are reported as off."""
    environ = dict(os.environ if environ is None else environ)
    raw = yaml.safe_load(credentials_file.read_text(encoding="utf-8")) or {}
    plan = ChannelPlan()
    for channel, settings in raw.items():
        missing = sorted(name for name in _references(settings) if not environ.get(name))
        if missing:
            plan.disabled[channel] = missing
            continue
        plan.credentials[channel] = _substitute(settings, environ)
        plan.enabled.append(channel)
    return plan


def redis_lock_store(url: str) -> dict:
    """Rasa's RedisLockStore settings (it takes host/port/db, not a URL) from redis://[:pw@]host:port/db."""
    parsed = urlsplit(url)
    settings = {"type": "redis", "url": parsed.hostname or "localhost", "port": parsed.port or 6379,
                "db": int((parsed.path or "/0").strip("/") or 0), "key_prefix": "clinic"}
    if parsed.password:
        settings["password"] = parsed.password
    return settings


def write_runtime_files(action_port: int, plan: ChannelPlan, folder: Path = VAR_DIR) -> tuple[Path, Path]:
    """Write the endpoints and credentials Rasa starts with, derived from endpoints.yml/credentials.yml."""
    folder.mkdir(parents=True, exist_ok=True)
    endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{action_port}/webhook"
    if redis_url():
        endpoints["lock_store"] = redis_lock_store(redis_url())
    endpoints_file = folder / f"endpoints.runtime.{action_port}.yml"
    credentials_file = folder / f"credentials.runtime.{action_port}.yml"
    endpoints_file.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    credentials_file.write_text(yaml.safe_dump(plan.credentials, sort_keys=False))
    credentials_file.chmod(0o600)  # it holds channel secrets
    return endpoints_file, credentials_file
