"""The clinic's profile (clinic.yml): name, phone, hours, booking link, emergency and urgent-care numbers, region."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from bot.opening_hours import OpeningHours
from bot.settings import settings

REQUIRED_FIELDS = ("name", "phone", "email", "booking_url", "emergency_number", "urgent_care")


@dataclass(frozen=True)
class ClinicProfile:
    name: str
    phone: str
    email: str
    booking_url: str
    hours: str  # generated from opening_hours ("Mon-Fri 8:00-19:00, Sat 9:00-13:00")
    emergency_number: str
    urgent_care: str
    opening_hours: OpeningHours | None = None
    region: str | None = None  # ISO 3166 country code (GB, IE, US): how national phone numbers are read


def profile_path() -> Path:
    return Path(settings().profile)


@lru_cache(maxsize=4)
def _load(path: Path) -> ClinicProfile:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    missing = [field for field in REQUIRED_FIELDS if not str(data.get(field) or "").strip()]
    if missing:
        raise ValueError(f"{path}: the clinic profile needs {', '.join(missing)}; add them to that file")
    fields = {field: str(data[field]).strip() for field in REQUIRED_FIELDS}
    fields["region"] = _region(path, data.get("region"))
    if data.get("opening_hours"):
        try:
            hours = OpeningHours.from_data(data["opening_hours"])
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from error
        return ClinicProfile(**fields, hours=hours.summary(), opening_hours=hours)
    if not str(data.get("hours") or "").strip():
        raise ValueError(f"{path}: the clinic profile needs opening_hours (or a free-text hours line)")
    return ClinicProfile(**fields, hours=str(data["hours"]).strip())


def _region(path: Path, value: object) -> str | None:
    """The optional `region:` key, checked against the regions phonenumbers knows."""
    if value is None or not str(value).strip():
        return None
    import phonenumbers

    region = str(value).strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"{path}: region {value!r} is not a two-letter country code phonenumbers knows "
                         "(for example GB, IE, US); fix the `region:` key in that file")
    return region


def clinic_profile() -> ClinicProfile:
    """The clinic profile from clinic.yml (or the file named by CLINIC_PROFILE)."""
    return _load(profile_path())
