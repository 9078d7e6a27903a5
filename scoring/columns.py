"""Website and WeChat columns (栏目, 附件1 and 附件2 of the regulation): cycles and the periods judged.

A column is updated on a fixed cycle by its responsible units. Each month judges the cycle
periods that belong to it, once each across the year: every workday of the month (daily), the
ISO weeks whose Thursday falls in it (weekly, like the draft quota), the fortnights whose second
Thursday falls in it (biweekly, fortnights counted from Monday 2001-01-01 so that they run on
across year ends), the month itself, the quarter in its last month, the year in December.
`on_demand` columns (即时更新) are never short. A period without a workday is never short either.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from scoring.calendar import WorkCalendar
from scoring.periods import SHANGHAI, Period, day_of
from scoring.profile import Column, Cycle
from scoring.quota import weeks_in_month
from scoring.records import UnitRecord

CYCLE_NAMES: dict[str, str] = {
    "daily": "每个工作日1条",
    "weekly": "每周1条",
    "biweekly": "每两周1条",
    "monthly": "每月1条",
    "quarterly": "每季度1条",
    "yearly": "每年1条",
    "on_demand": "即时更新",
}
# Any Monday works; this one keeps fortnights aligned with ISO weeks 1–2, 3–4 … of 2001.
FORTNIGHT_EPOCH = date(2001, 1, 1)


def responsible(column: Column, units: Iterable[UnitRecord]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The configured units responsible for `column`, and the names matching no unit or group."""
    ordered = tuple(units)
    if not column.units:
        return tuple(u.name for u in ordered), ()
    chosen: list[str] = []
    unknown: list[str] = []
    for name in column.units:
        matches = [u.name for u in ordered if u.name == name or u.group == name]
        if not matches:
            unknown.append(name)
        chosen.extend(m for m in matches if m not in chosen)
    return tuple(chosen), tuple(unknown)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def _span(label: str, first: date, end: date) -> Period:
    return Period(label, _midnight(first), _midnight(end))


def fortnight_of(day: date) -> Period:
    """The fortnight (two ISO weeks) holding `day`, labelled like 2025-W23/W24."""
    start = FORTNIGHT_EPOCH + timedelta(days=(day - FORTNIGHT_EPOCH).days // 14 * 14)
    first, second = start.isocalendar(), (start + timedelta(days=7)).isocalendar()
    label = f"{first.year}-W{first.week:02d}/W{second.week:02d}"
    return _span(label, start, start + timedelta(days=14))


def cycle_periods(cycle: Cycle, month: Period, calendar: WorkCalendar) -> tuple[Period, ...]:
    """The periods of `cycle` judged in `month` (each period of a cycle is judged in one month only)."""
    first, end = day_of(month.start), day_of(month.end)
    if cycle == "daily":
        return tuple(_span(d.isoformat(), d, d + timedelta(days=1)) for d in calendar.workdays(month))
    if cycle == "weekly":
        return weeks_in_month(month)
    if cycle == "biweekly":
        out: list[Period] = []
        day = first
        while day < end:
            fortnight = fortnight_of(day)
            second_thursday = day_of(fortnight.start) + timedelta(days=10)
            if first <= second_thursday < end and fortnight not in out:
                out.append(fortnight)
            day += timedelta(days=7)
        return tuple(out)
    if cycle == "monthly":
        return (month,)
    if cycle == "quarterly":
        if first.month % 3:
            return ()
        start = first.replace(month=first.month - 2)
        return (_span(f"{first.year}-Q{first.month // 3}", start, end),)
    if cycle == "yearly":
        return (_span(str(first.year), first.replace(month=1), end),) if first.month == 12 else ()
    return ()


def period_text(cycle: Cycle, period: Period) -> str:
    """A period as the notes show it: 6月3日, 2025-W23（6月2日至6月8日）, 2025年第2季度 …"""
    first = day_of(period.start)
    last = day_of(period.end) - timedelta(days=1)
    if cycle == "daily":
        return f"{first.month}月{first.day}日"
    if cycle == "monthly":
        return f"{first.year}年{first.month}月"
    if cycle == "quarterly":
        return f"{first.year}年第{(first.month + 2) // 3}季度"
    if cycle == "yearly":
        return f"{first.year}年"
    return f"{period.label}（{first.month}月{first.day}日至{last.month}月{last.day}日）"
