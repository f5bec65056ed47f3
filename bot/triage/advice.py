"""The words of an escalation: immediate advice per level, reminders, and the contact-offer lines (advice.yml)."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path

import yaml

from bot.clinic_profile import ClinicProfile, clinic_profile
from bot.triage.flags import LEVELS, load_flag_file

ADVICE_FILE = Path(__file__).with_name("advice.yml")


@lru_cache(maxsize=2)
def _advice(path: Path = ADVICE_FILE) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    missing = [level for level in LEVELS if level not in (data.get("levels") or {})
               or level not in (data.get("reminders") or {})]
    if missing:
        raise ValueError(f"{path}: add advice and a reminder for level(s) {', '.join(missing)}")
    return data


def _fill(template: str, profile: ClinicProfile | None = None, **extra: str) -> str:
    values = asdict(profile or clinic_profile())
    values.update(extra)
    return template.format(**values).strip()


def _level(level: str | None) -> str:
    return level if level in LEVELS else "same_day"  # an unknown level is treated as urgent, never ignored


def reason_text(flags: Iterable[str]) -> str:
    """The reason line of the most relevant flag (flags come most severe first)."""
    flag_file = load_flag_file()
    for flag_id in flags:
        try:
            return flag_file.flag(flag_id).reason
        except KeyError:
            reason = (_advice().get("reasons") or {}).get(flag_id)
            if reason:
                return reason
    return (_advice().get("reasons") or {}).get("classifier", "")


def level_advice(level: str | None, profile: ClinicProfile | None = None) -> str:
    """What to do now, for the level (without the reason line)."""
    return _fill(_advice()["levels"][_level(level)], profile)


def advice_text(level: str | None, flags: Iterable[str] = (), profile: ClinicProfile | None = None) -> str:
    """The immediate advice: the reason (no diagnosis), what to do now, and any flag-specific line."""
    flags = list(flags)
    parts = [reason_text(flags), level_advice(level, profile)]
    extras = _advice().get("flags") or {}
    parts += [_fill(extras[f], profile) for f in flags if f in extras]
    return "\n".join(p for p in parts if p)


def reminder_text(level: str) -> str:
    """One short line to put before later answers while an escalation is open."""
    return _fill(_advice()["reminders"][_level(level)])


def line(key: str, profile: ClinicProfile | None = None, **extra: str) -> str:
    """Another line of advice.yml (offer_contact, declined, contact_saved, ...), filled in."""
    template = _advice().get(key)
    if not template:
        raise KeyError(f"{ADVICE_FILE}: no line {key!r}")
    return _fill(template, profile, **extra)
