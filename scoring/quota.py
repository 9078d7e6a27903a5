"""Quotas (三(一)1: at least 4 drafts a month and 1 a week per unit) on the Chinese work calendar.

A draft counts for the week and for the month it was received in (INTERNALDATE, Asia/Shanghai),
so a week spanning two months feeds each month with its own days' drafts. A month's score checks
the weekly quota of the ISO weeks whose Thursday falls in that month (ISO 8601's own rule for
which year a week belongs to), each counted over its full Monday–Sunday, also across New Year
(2026-W01 counts a draft of 30 December 2025); a week is judged by the rules of the month it
belongs to. A week with fewer workdays than `min_workdays` (default 1, e.g. the National Day
week) has no quota.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

from scoring import periods
from scoring.calendar import WorkCalendar
from scoring.context import Ledger
from scoring.periods import SHANGHAI, Period, day_of, month_of, week_of
from scoring.profile import Profile, Quota
from scoring.records import DraftTally, SubmissionRecord, UnitRecord

_INSTANT = timedelta(microseconds=1)


def weeks_in_month(month: Period) -> tuple[Period, ...]:
    """The ISO weeks whose Thursday falls in `month`: four or five, each wholly checked once a year."""
    first, end = day_of(month.start), day_of(month.end)
    thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    weeks = []
    while thursday < end:
        weeks.append(week_of(datetime.combine(thursday, time(12), tzinfo=SHANGHAI)))
        thursday += timedelta(days=7)
    return tuple(weeks)


def whole_weeks(period: Period) -> Period:
    """`period` widened to the whole of every week checked in a calendar month it holds entirely.

    What a period's quotas count: 2026 runs from W01's Monday 29 December 2025 to W53's Sunday
    3 January 2027, July 2025 from W27's Monday 30 June; a week holds no whole month: itself.
    """
    first = month_of(period.start)
    if first.start < period.start:
        first = month_of(first.end)
    last = month_of(period.end - _INSTANT)
    if last.end > period.end:
        last = month_of(last.start - _INSTANT)
    if first.start >= last.end:
        return period
    start = min(period.start, weeks_in_month(first)[0].start)
    return Period(period.label, start, max(period.end, weeks_in_month(last)[-1].end))


def counted_span(profile: Profile, year: int) -> Period:
    """When the drafts that count for some month of `year` were received (empty: the profile
    applies to none of its months, so nothing counts).

    A month that ends before the profile's first version scores only imported history (the
    engine's rule), so drafts count from the first month it applies to, less the days of that
    month's first checked week that fall before it (in December, for a week spanning New Year),
    up to the end of December's last checked week (in January, for 2026-W53). The days outside
    the year count for those weeks' quotas only: a draft scores in the month it was received in.
    """
    months = [periods.month(year, number) for number in range(1, 13)]
    first = next((m for m in months if not profile.precedes(m)), None)
    if first is None:
        return Period(str(year), months[-1].end, months[-1].end)
    year_span = Period(str(year), months[0].start, months[-1].end)
    return Period(str(year), whole_weeks(first).start, whole_weeks(year_span).end)


def month_of_week(week: Period) -> Period:
    """The month a week's quota is checked in: the month of its Thursday."""
    return month_of(week.start + timedelta(days=3, hours=12))


def ordered_units(units: Iterable[UnitRecord]) -> tuple[UnitRecord, ...]:
    """Configured units in display order: `order`, then the order of the configuration."""
    indexed = list(enumerate(units))
    return tuple(u for _, u in sorted(indexed, key=lambda pair: (pair[1].order, pair[0])))


def count_accepted(submissions: Iterable[SubmissionRecord], unit: str, period: Period) -> int:
    return sum(
        1 for s in submissions if s.status == "accepted" and s.unit == unit and s.received_at in period
    )


@dataclass(frozen=True, slots=True)
class Assessment:
    """A unit's drafts in one period against a quota, and the points that earns."""

    submitted: int
    required: int
    short: int
    extra: int
    deduction: Decimal  # per_missing × short, bounded by max_deduction
    bonus: Decimal  # per_extra × extra, bounded by max_bonus
    deduction_capped: bool
    bonus_capped: bool


def assess(quota: Quota, *, submitted: int, workdays: int) -> Assessment:
    required = quota.required if workdays >= quota.min_workdays else 0
    short = max(0, required - submitted)
    extra = max(0, submitted - required) if required else 0
    deduction, cut_deduction = _bounded(quota.per_missing * short, quota.max_deduction)
    bonus, cut_bonus = _bounded(quota.per_extra * extra, quota.max_bonus)
    return Assessment(submitted, required, short, extra, deduction, bonus, cut_deduction, cut_bonus)


def _bounded(points: Decimal, cap: Decimal | None) -> tuple[Decimal, bool]:
    if cap is None or abs(points) <= cap:
        return points, False
    return cap.copy_sign(points), True


@dataclass(frozen=True)
class QuotaRow:
    unit: str
    group: str
    submitted: int
    required: int
    short: int
    extra: int

    def to_json(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "group": self.group,
            "submitted": self.submitted,
            "required": self.required,
            "short": self.short,
            "extra": self.extra,
        }


@dataclass(frozen=True)
class QuotaReport:
    """`quota --week --json` (and its monthly twin): every configured unit, zero rows too."""

    kind: Literal["week", "month"]
    period: Period
    workdays: int
    units: tuple[QuotaRow, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            self.kind: self.period.label,
            "workdays": self.workdays,
            "units": [row.to_json() for row in self.units],
        }


def week_quota(
    *,
    week: Period,
    units: Iterable[UnitRecord],
    submissions: Iterable[SubmissionRecord],
    profile: Profile,
    calendar: WorkCalendar,
    tallies: Iterable[DraftTally] = (),
) -> QuotaReport:
    """Each unit's accepted drafts received in `week` against the weekly quota of the week's month.

    `tallies` count too (drafts handed in as counts, records.DraftTally).
    """
    version = profile.version_for(month_of_week(week))
    workdays = len(calendar.workdays(week))
    ledger = _counter(submissions, tallies)
    rows = []
    for unit in ordered_units(units):
        a = assess(version.rules(unit.group).week, submitted=ledger.count(week, unit.name), workdays=workdays)
        rows.append(QuotaRow(unit.name, unit.group, a.submitted, a.required, a.short, a.extra))
    return QuotaReport("week", week, workdays, tuple(rows))


def month_quota(
    *,
    month: Period,
    units: Iterable[UnitRecord],
    submissions: Iterable[SubmissionRecord],
    profile: Profile,
    calendar: WorkCalendar,
    tallies: Iterable[DraftTally] = (),
) -> QuotaReport:
    """Each unit's accepted drafts received in `month` against the monthly quota (`tallies` count too)."""
    version = profile.version_for(month)
    workdays = len(calendar.workdays(month))
    ledger = _counter(submissions, tallies)
    rows = []
    for unit in ordered_units(units):
        a = assess(
            version.rules(unit.group).month,
            submitted=ledger.count(month, unit.name),
            workdays=workdays,
        )
        rows.append(QuotaRow(unit.name, unit.group, a.submitted, a.required, a.short, a.extra))
    return QuotaReport("month", month, workdays, tuple(rows))


def _counter(submissions: Iterable[SubmissionRecord], tallies: Iterable[DraftTally]) -> Ledger:
    # The engine's index of accepted drafts: one sort instead of a pass over all drafts per unit.
    return Ledger((), tuple(submissions), (), (), tallies=tuple(tallies))
