"""The Chinese work calendar: official holidays and adjusted workdays (调休), with local overrides.

`chinese_calendar` knows the State Council's published years only (2004–2026 in 1.11) and raises
NotImplementedError for any other year; there the calendar falls back to Monday–Friday and
records the year, so the caller can log `warnings`. Dates in the override table win over both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import chinese_calendar

from scoring.periods import Period, day_of


class CalendarError(ValueError):
    """A bad override table in the configuration; the message is Chinese."""


class WorkCalendar:
    """Which days are workdays; pure apart from the library's packaged tables."""

    def __init__(self, *, workdays: Iterable[date] = (), holidays: Iterable[date] = ()) -> None:
        forced_work, forced_rest = set(workdays), set(holidays)
        both = sorted(forced_work & forced_rest)
        if both:
            raise CalendarError(f"日期 {both[0]} 同时列为工作日和节假日，请只保留一处")
        self._overrides: dict[date, bool] = {d: True for d in forced_work} | {d: False for d in forced_rest}
        self._fallback_years: set[int] = set()
        # Answers so far: every unit's quotas ask about the same weeks.
        self._answers: dict[date, bool] = {}

    def is_workday(self, day: date) -> bool:
        answer = self._answers.get(day)
        if answer is None:
            answer = self._answers[day] = self._is_workday(day)
        return answer

    def _is_workday(self, day: date) -> bool:
        if day in self._overrides:
            return self._overrides[day]
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            self._fallback_years.add(day.year)
            return day.weekday() < 5

    def holiday_name(self, day: date) -> str | None:
        """The Chinese name of the official holiday `day` belongs to (国庆节), if the library knows it."""
        try:
            on_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            return None
        if not on_holiday or name is None:
            return None
        return str(chinese_calendar.Holiday(name).chinese)

    def workdays(self, period: Period) -> tuple[date, ...]:
        """The workdays in `period` (days of the bureau's time zone)."""
        first, end = day_of(period.start), day_of(period.end)
        days = (first + timedelta(days=n) for n in range((end - first).days))
        return tuple(d for d in days if self.is_workday(d))

    @staticmethod
    def knows(year: int) -> bool:
        """Whether the library has the State Council's calendar for `year`."""
        try:
            chinese_calendar.is_workday(date(year, 1, 1))
        except NotImplementedError:
            return False
        return True

    @property
    def fallback_years(self) -> tuple[int, ...]:
        """Years asked about so far that were answered Monday–Friday."""
        return tuple(sorted(self._fallback_years))

    @property
    def warnings(self) -> tuple[str, ...]:
        """Operator warnings (English, for the log) about years answered Monday–Friday."""
        return tuple(fallback_warning(year) for year in self.fallback_years)


def fallback_warning(year: int) -> str:
    return (
        f"work calendar: chinese_calendar has no data for {year}; using Monday-Friday "
        f"(list that year's holidays and adjusted workdays under [calendar] in config.toml, "
        f"or upgrade chinesecalendar)"
    )


def calendar_from_config(raw: Mapping[str, Any]) -> WorkCalendar:
    """A calendar from config.toml's `[calendar]` table: `workdays = [...]`, `holidays = [...]`.

    Dates may be TOML dates (2027-02-06) or strings ("2027-02-06").
    """
    unknown = sorted(set(raw) - {"workdays", "holidays"})
    if unknown:
        raise CalendarError(f"配置 [calendar] 中有无法识别的项：{', '.join(unknown)}")
    return WorkCalendar(
        workdays=_dates(raw.get("workdays", []), "workdays"),
        holidays=_dates(raw.get("holidays", []), "holidays"),
    )


def _dates(values: object, key: str) -> list[date]:
    if not isinstance(values, list):
        raise CalendarError(f"配置 [calendar] {key} 应为日期列表，如 [2027-02-06]")
    days: list[date] = []
    for value in values:
        if isinstance(value, date) and not hasattr(value, "hour"):
            days.append(value)
            continue
        try:
            days.append(date.fromisoformat(str(value)))
        except ValueError:
            raise CalendarError(
                f"配置 [calendar] {key} 中的 {value!r} 不是日期（应写作 2027-02-06）"
            ) from None
    return days
