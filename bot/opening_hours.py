"""The clinic's opening hours as data (clinic.yml `opening_hours`): open now?, when it next opens, and the
sentences the bot says about them. The human-readable hours text is generated from the same data, so the
website, the urgent advice and the contact promises never disagree with the clock.

    opening_hours:
      timezone: Europe/London
      weekly: {monday: "08:00-19:00", ..., saturday: "09:00-13:00", sunday: closed}
      holidays: [2026-12-25, 2026-12-26]

A day may have several ranges ("08:00-12:00, 13:00-19:00"). Times are local to `timezone`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SHORT_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# The English status sentences; the translations (same keys) are data: bot/triage/advice_<lang>.yml, opening_hours.
ENGLISH_PHRASES: dict[str, Any] = {
    "open_until": "The clinic is open now, until {time}.",
    "closed": "The clinic is closed now.",
    "closed_opens": "The clinic is closed now; it opens at {time} {day}.",
    "today": "today",
    "tomorrow": "tomorrow",
    "on_weekday": "on {weekday}",
    "on_date": "on {weekday} {date} {month}",
    "weekdays": tuple(day.capitalize() for day in WEEKDAYS),
    "months": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December"),
    # the hours text {hours} (summary): "Mon-Fri 8:00-19:00, Sat 9:00-13:00"
    "short_weekdays": SHORT_NAMES,
    "day_span": "{first}-{last}",
    "day_hours": "{days} {ranges}",
    "ranges_separator": ", ",
    "days_separator": ", ",
    "never_open": "closed",
}


class OpeningHoursError(ValueError):
    """clinic.yml's opening_hours is malformed; the message says where and how to fix it."""


@dataclass(frozen=True)
class OpeningHours:
    timezone: str
    weekly: tuple[tuple[tuple[time, time], ...], ...]  # 7 days, Monday first; each a tuple of (open, close)
    holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_data(cls, data: dict) -> OpeningHours:
        if not isinstance(data, dict):
            raise OpeningHoursError("opening_hours must be a mapping with timezone, weekly and holidays")
        zone_name = str(data.get("timezone") or "").strip()
        try:
            ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise OpeningHoursError(f"opening_hours.timezone {zone_name!r} is not a known time zone "
                                    "(e.g. Europe/London, Asia/Hong_Kong)") from error
        weekly_data = data.get("weekly") or {}
        unknown = set(weekly_data) - set(WEEKDAYS)
        if unknown:
            raise OpeningHoursError(f"opening_hours.weekly has unknown days: {', '.join(sorted(unknown))}")
        weekly = tuple(_parse_day(day, weekly_data.get(day, "closed")) for day in WEEKDAYS)
        holidays = frozenset(_parse_date(value) for value in data.get("holidays") or [])
        return cls(timezone=zone_name, weekly=weekly, holidays=holidays)

    def local(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            raise ValueError("opening hours need an aware datetime (e.g. datetime.now(timezone.utc))")
        return at.astimezone(self.zone)

    def ranges_on(self, day: date) -> tuple[tuple[time, time], ...]:
        return () if day in self.holidays else self.weekly[day.weekday()]

    def is_open(self, at: datetime) -> bool:
        now = self.local(at)
        return any(start <= now.time() < end for start, end in self.ranges_on(now.date()))

    def closes_at(self, at: datetime) -> datetime | None:
        """When the current opening ends, or None when closed now."""
        now = self.local(at)
        for start, end in self.ranges_on(now.date()):
            if start <= now.time() < end:
                return datetime.combine(now.date(), end, tzinfo=self.zone)
        return None

    def next_opening(self, at: datetime) -> datetime | None:
        """The next moment the clinic opens after `at` (None if it never opens in the next 60 days)."""
        now = self.local(at)
        for offset in range(61):
            day = now.date() + timedelta(days=offset)
            for start, _end in self.ranges_on(day):
                opening = datetime.combine(day, start, tzinfo=self.zone)
                if opening > now:
                    return opening
        return None

    def summary(self, phrases: Mapping[str, Any] | None = None) -> str:
        """'Mon-Fri 8:00-19:00, Sat 9:00-13:00' from the weekly data (closed days left out). `phrases` translates
        it (bot/triage/advice_<lang>.yml `opening_hours:`); a phrase it lacks is English."""
        words = {**ENGLISH_PHRASES, **{k: v for k, v in (phrases or {}).items() if v}}
        parts: list[str] = []
        day = 0
        while day < 7:
            ranges = self.weekly[day]
            last = day
            while last + 1 < 7 and self.weekly[last + 1] == ranges:
                last += 1
            if ranges:
                first_name, last_name = (_name(words, "short_weekdays", d) for d in (day, last))
                days = first_name if last == day else _phrase(words, "day_span", first=first_name, last=last_name)
                times = str(words["ranges_separator"]).join(_range_text(r) for r in ranges)
                parts.append(_phrase(words, "day_hours", days=days, ranges=times))
            day = last + 1
        return str(words["days_separator"]).join(parts) if parts else _phrase(words, "never_open")

    def status_sentence(self, at: datetime, phrases: Mapping[str, Any] | None = None) -> str:
        """'The clinic is open now, until 19:00.' or 'The clinic is closed now; it opens at 8:00 on Monday.'
        `phrases` translates it (bot/triage/advice_<lang>.yml `opening_hours:`); a phrase it lacks is English."""
        words = {**ENGLISH_PHRASES, **{k: v for k, v in (phrases or {}).items() if v}}
        closing = self.closes_at(at)
        if closing is not None:
            return _phrase(words, "open_until", time=_clock(closing.time()))
        opening = self.next_opening(at)
        if opening is None:
            return _phrase(words, "closed")
        return _phrase(words, "closed_opens", time=_clock(opening.time()),
                       day=_day_phrase(self.local(at), opening, words))

def _parse_day(day: str, value) -> tuple[tuple[time, time], ...]:
    text = str(value or "closed").strip().lower()
    if text == "closed":
        return ()
    ranges = []
    for part in text.split(","):
        try:
            start_text, end_text = (piece.strip() for piece in part.split("-"))
            start, end = time.fromisoformat(start_text.zfill(5)), time.fromisoformat(end_text.zfill(5))
        except ValueError as error:
            raise OpeningHoursError(f"opening_hours.weekly.{day}: {value!r} is not like '08:00-19:00' "
                                    "or 'closed'") from error
        if end <= start:
            raise OpeningHoursError(f"opening_hours.weekly.{day}: {part.strip()!r} closes before it opens")
        ranges.append((start, end))
    return tuple(sorted(ranges))


def _parse_date(value) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as error:
        raise OpeningHoursError(f"opening_hours.holidays: {value!r} is not a date like 2026-12-25") from error


def _clock(moment: time) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


def _range_text(hours: tuple[time, time]) -> str:
    return f"{_clock(hours[0])}-{_clock(hours[1])}"


def _phrase(words: Mapping[str, Any], key: str, **values: str) -> str:
    """One phrase filled in; a translated phrase that does not fill (a wrong placeholder) falls back to English."""
    try:
        return str(words[key]).format(**values)
    except (KeyError, IndexError, ValueError):
        return ENGLISH_PHRASES[key].format(**values)


def _name(words: Mapping[str, Any], key: str, index: int) -> str:
    names = words.get(key)
    if isinstance(names, (list, tuple)) and len(names) == len(ENGLISH_PHRASES[key]) and names[index]:
        return str(names[index])
    return ENGLISH_PHRASES[key][index]


def _day_phrase(now: datetime, opening: datetime, words: Mapping[str, Any] = ENGLISH_PHRASES) -> str:
    days = (opening.date() - now.date()).days
    if days == 0:
        return _phrase(words, "today")
    if days == 1:
        return _phrase(words, "tomorrow")
    weekday = _name(words, "weekdays", opening.weekday())
    if days < 7:
        return _phrase(words, "on_weekday", weekday=weekday)
    return _phrase(words, "on_date", weekday=weekday, date=str(opening.day),
                   month=_name(words, "months", opening.month - 1))
