"""Periods of the regulation: ISO weeks and calendar months, in the bureau's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open interval [start, end) of aware datetimes, with the label the CLI uses."""

    label: str
    start: datetime
    end: datetime

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz)


def week_of(moment: datetime, tz: ZoneInfo = SHANGHAI) -> Period:
    """The ISO week (Monday–Sunday) holding `moment`, labelled like 2025-W25."""
    local = moment.astimezone(tz).date()
    monday = local - timedelta(days=local.weekday())
    year, week, _ = local.isocalendar()
    return Period(f"{year}-W{week:02d}", _midnight(monday, tz), _midnight(monday + timedelta(days=7), tz))


def month_of(moment: datetime, tz: ZoneInfo = SHANGHAI) -> Period:
    """The calendar month holding `moment`, labelled like 2025-06."""
    local = moment.astimezone(tz).date()
    return month(local.year, local.month, tz)


def month(year: int, month_: int, tz: ZoneInfo = SHANGHAI) -> Period:
    first = date(year, month_, 1)
    following = date(year + (month_ == 12), month_ % 12 + 1, 1)
    return Period(f"{year}-{month_:02d}", _midnight(first, tz), _midnight(following, tz))


def parse_week(label: str, tz: ZoneInfo = SHANGHAI) -> Period:
    """`2025-W25` → that ISO week; ValueError on anything else."""
    year, _, week = label.upper().partition("-W")
    monday = date.fromisocalendar(int(year), int(week), 1)
    return week_of(_midnight(monday, tz), tz)


def parse_month(label: str, tz: ZoneInfo = SHANGHAI) -> Period:
    """`2025-06` → that month; ValueError on anything else."""
    year, _, month_ = label.partition("-")
    return month(int(year), int(month_), tz)


def day_of(moment: datetime, tz: ZoneInfo = SHANGHAI) -> date:
    return moment.astimezone(tz).date()
