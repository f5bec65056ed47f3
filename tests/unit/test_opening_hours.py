"""Opening hours as data: open/closed on a fixed clock, holidays, time zones, generated text, clear errors."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.clinic_profile import _load
from bot.opening_hours import OpeningHours, OpeningHoursError

LONDON = {
    "timezone": "Europe/London",
    "weekly": {day: "08:00-19:00" for day in ("monday", "tuesday", "wednesday", "thursday", "friday")}
    | {"saturday": "09:00-13:00", "sunday": "closed"},
    "holidays": ["2026-12-25", "2026-12-26"],
}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@pytest.fixture
def london() -> OpeningHours:
    return OpeningHours.from_data(LONDON)


def test_open_on_a_weekday_afternoon_and_says_until_when(london):
    at = utc("2026-12-02T14:30")  # a Wednesday, GMT
    assert london.is_open(at)
    assert london.status_sentence(at) == "The clinic is open now, until 19:00."


def test_closed_at_3am_says_when_it_opens_today(london):
    at = utc("2026-12-02T03:00")
    assert not london.is_open(at)
    assert london.status_sentence(at) == "The clinic is closed now; it opens at 8:00 today."


def test_saturday_afternoon_is_closed_until_monday(london):
    at = utc("2026-12-05T15:00")  # Saturday after 13:00
    assert not london.is_open(at)
    assert london.next_opening(at) == datetime(2026, 12, 7, 8, 0, tzinfo=london.zone)
    assert london.status_sentence(at) == "The clinic is closed now; it opens at 8:00 on Monday."


def test_holidays_are_closed_and_skipped(london):
    christmas_morning = utc("2026-12-25T10:00")  # a Friday, but a holiday
    assert not london.is_open(christmas_morning)
    # the 26th (Saturday) is a holiday too and Sunday is closed: next opening is Monday the 28th
    assert london.next_opening(christmas_morning) == datetime(2026, 12, 28, 8, 0, tzinfo=london.zone)


def test_times_are_local_to_the_clinic_time_zone_including_summer_time(london):
    # 07:30 UTC in July is 08:30 in London (BST): open; the same instant in December (GMT) is 07:30: closed
    assert london.is_open(utc("2026-07-01T07:30"))
    assert not london.is_open(utc("2026-12-02T07:30"))
    hong_kong = OpeningHours.from_data({**LONDON, "timezone": "Asia/Hong_Kong"})
    assert hong_kong.is_open(utc("2026-12-02T01:00"))  # 09:00 in Hong Kong
    assert not hong_kong.is_open(utc("2026-12-02T14:30"))  # 22:30 in Hong Kong


def test_split_days_and_the_generated_summary():
    hours = OpeningHours.from_data({"timezone": "Europe/Madrid", "weekly": {
        "monday": "09:00-13:00, 15:00-19:00", "tuesday": "09:00-13:00, 15:00-19:00", "friday": "09:00-14:00"}})
    assert hours.summary() == "Mon-Tue 9:00-13:00, 15:00-19:00, Fri 9:00-14:00"
    lunch = datetime(2026, 12, 7, 14, 0, tzinfo=hours.zone)  # Monday 14:00, between the two ranges
    assert not hours.is_open(lunch)
    assert hours.status_sentence(lunch) == "The clinic is closed now; it opens at 15:00 today."


def test_the_clinic_profile_generates_its_hours_text_from_the_data(tmp_path):
    profile = tmp_path / "clinic.yml"
    profile.write_text(
        "name: X\nphone: '1'\nemail: a@b.example\nbooking_url: https://b.example\nemergency_number: '999'\n"
        "urgent_care: A&E\nopening_hours:\n  timezone: Europe/London\n  weekly:\n    monday: '08:00-19:00'\n"
        "    tuesday: '08:00-19:00'\n    saturday: '09:00-13:00'\n")
    loaded = _load(profile)
    assert loaded.hours == "Mon-Tue 8:00-19:00, Sat 9:00-13:00"
    assert loaded.opening_hours is not None and loaded.opening_hours.is_open(utc("2026-12-07T09:00"))


@pytest.mark.parametrize(("change", "message"), [
    ({"timezone": "Mars/Olympus"}, "not a known time zone"),
    ({"weekly": {"funday": "08:00-19:00"}}, "unknown days: funday"),
    ({"weekly": {"monday": "8 till 7"}}, "is not like '08:00-19:00'"),
    ({"weekly": {"monday": "19:00-08:00"}}, "closes before it opens"),
    ({"holidays": ["Christmas"]}, "is not a date"),
])
def test_malformed_hours_fail_with_a_clear_message(change, message):
    with pytest.raises(OpeningHoursError, match=message):
        OpeningHours.from_data({**LONDON, **change})


def test_a_naive_datetime_is_refused(london):
    with pytest.raises(ValueError, match="aware datetime"):
        london.is_open(datetime(2026, 12, 2, 10, 0))


def test_contact_promises_say_whether_the_clinic_is_open_now(monkeypatch):
    from bot.triage import advice

    monkeypatch.setattr(advice, "open_status", lambda profile, now=None: "The clinic is closed now; it opens "
                        "at 8:00 on Monday.")
    saved = advice.line("contact_saved", contact_name="Sam", contact_details="+447700900123")
    assert saved.endswith("The clinic is closed now; it opens at 8:00 on Monday.")
    assert "  " not in saved
    # the lines Rasa sends itself (generated at build time) never carry a time-of-day sentence
    assert "The clinic is" not in advice.line("action_unavailable")
