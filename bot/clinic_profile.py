"""The clinic's profile (clinic.yml): name, phone, hours, booking link, emergency and urgent-care numbers."""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.paths import PROJECT_ROOT

REQUIRED_FIELDS = ("name", "phone", "email", "booking_url", "hours", "emergency_number", "urgent_care")


@dataclass(frozen=True)
class ClinicProfile:
    name: str
    phone: str
    email: str
    booking_url: str
    hours: str
    emergency_number: str
    urgent_care: str


def profile_path() -> Path:
    return Path(os.environ.get("CLINIC_PROFILE", PROJECT_ROOT / "clinic.yml"))


@lru_cache(maxsize=4)
def _load(path: Path) -> ClinicProfile:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    missing = [field for field in REQUIRED_FIELDS if not str(data.get(field) or "").strip()]
    if missing:
        raise ValueError(f"{path}: the clinic profile needs {', '.join(missing)}; add them to that file")
    return ClinicProfile(**{field: str(data[field]).strip() for field in REQUIRED_FIELDS})


def clinic_profile() -> ClinicProfile:
    """The clinic profile from clinic.yml (or the file named by CLINIC_PROFILE)."""
    return _load(profile_path())
