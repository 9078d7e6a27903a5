"""`quota --week` and the monthly count: drafts per unit against the quota, on the work calendar."""

from __future__ import annotations

import pytest

from scoring.calendar import WorkCalendar
from scoring.periods import Period, parse_month, parse_week
from scoring.profile import Profile, Quota
from scoring.quota import (
    assess,
    counted_span,
    month_of_week,
    month_quota,
    week_quota,
    weeks_in_month,
    whole_weeks,
)
from tests.scoring.builders import EXAMPLE, PANJIN, UNITS, D, at, draft

W = ("王强", "危化科")


@pytest.mark.parametrize(
    ("month", "weeks"),
    [
        pytest.param(
            "2025-06", ["2025-W23", "2025-W24", "2025-W25", "2025-W26"], id="June: 1 June is W22's Sunday"
        ),
        pytest.param(
            "2025-07", ["2025-W27", "2025-W28", "2025-W29", "2025-W30", "2025-W31"], id="July: five"
        ),
        pytest.param(
            "2026-01", ["2026-W01", "2026-W02", "2026-W03", "2026-W04", "2026-W05"], id="across New Year"
        ),
        pytest.param(
            "2025-12", ["2025-W49", "2025-W50", "2025-W51", "2025-W52"], id="December ends before W01"
        ),
    ],
)
def test_a_month_checks_the_weeks_whose_thursday_it_holds(month: str, weeks: list[str]) -> None:
    """ISO's own rule: each week is checked in exactly one month."""
    assert [w.label for w in weeks_in_month(parse_month(month))] == weeks
    assert all(month_of_week(w).label == month for w in weeks_in_month(parse_month(month)))


def test_every_week_of_a_year_belongs_to_exactly_one_month() -> None:
    """52 ISO weeks in 2025, none lost or checked twice."""
    labels = [w.label for m in range(1, 13) for w in weeks_in_month(parse_month(f"2025-{m:02d}"))]
    assert len(labels) == len(set(labels)) == 52


def test_week_quota_lists_every_unit_with_zero_rows() -> None:
    """`quota --week 2025-W25 --json`: 危化科 sent two (one rejected draft does not count); others none."""
    subs = [
        draft(1, "危化科", "2025-06-16", W),
        draft(2, "危化科", "2025-06-22", W),
        draft(3, "危化科", "2025-06-18", W, status="rejected"),
        draft(4, "宣教科", "2025-06-23", W),  # Monday of the next week
    ]
    report = week_quota(
        week=parse_week("2025-W25"), units=UNITS, submissions=subs, profile=PANJIN, calendar=WorkCalendar()
    )
    assert report.to_json() == {
        "week": "2025-W25",
        "workdays": 5,
        "units": [
            {"unit": "危化科", "group": "department", "submitted": 2, "required": 1, "short": 0, "extra": 1},
            {
                "unit": "综合行政执法队",
                "group": "department",
                "submitted": 0,
                "required": 1,
                "short": 1,
                "extra": 0,
            },
            {
                "unit": "盘山县应急管理局",
                "group": "county",
                "submitted": 0,
                "required": 1,
                "short": 1,
                "extra": 0,
            },
            {"unit": "宣教科", "group": "department", "submitted": 0, "required": 1, "short": 1, "extra": 0},
        ],
    }


def test_a_week_without_workdays_has_no_quota() -> None:
    """Spring Festival 2026 (W08): nobody is short, whatever they sent."""
    report = week_quota(
        week=parse_week("2026-W08"), units=UNITS, submissions=(), profile=PANJIN, calendar=WorkCalendar()
    )
    assert report.workdays == 0
    assert {(r.required, r.short) for r in report.units} == {(0, 0)}


def test_a_week_spanning_two_months_counts_each_draft_for_the_month_it_arrived_in() -> None:
    """W27 runs Mon 30 June – Sun 6 July: a draft of 30 June counts for W27 (checked in July) and for June."""
    subs = [draft(1, "危化科", "2025-06-30", W)]
    week = week_quota(
        week=parse_week("2025-W27"), units=UNITS, submissions=subs, profile=PANJIN, calendar=WorkCalendar()
    )
    june = month_quota(
        month=parse_month("2025-06"), units=UNITS, submissions=subs, profile=PANJIN, calendar=WorkCalendar()
    )
    july = month_quota(
        month=parse_month("2025-07"), units=UNITS, submissions=subs, profile=PANJIN, calendar=WorkCalendar()
    )
    assert (week.units[0].submitted, june.units[0].submitted, july.units[0].submitted) == (1, 1, 0)
    assert june.to_json()["month"] == "2025-06"
    assert june.workdays == 20  # 21 weekdays, less Monday 2 June (端午节)


def test_group_quotas_differ() -> None:
    """The example profile asks county bureaus for 6 a month and a weekly draft; departments 4 and none."""
    report = month_quota(
        month=parse_month("2025-06"), units=UNITS, submissions=(), profile=EXAMPLE, calendar=WorkCalendar()
    )
    assert {r.unit: r.required for r in report.units} == {
        "危化科": 4,
        "综合行政执法队": 4,
        "盘山县应急管理局": 6,
        "宣教科": 4,
    }
    weekly = week_quota(
        week=parse_week("2025-W25"), units=UNITS, submissions=(), profile=EXAMPLE, calendar=WorkCalendar()
    )
    assert {r.unit: r.short for r in weekly.units} == {
        "危化科": 0,
        "综合行政执法队": 0,
        "盘山县应急管理局": 1,
        "宣教科": 0,
    }


@pytest.mark.parametrize(
    ("submitted", "short", "extra", "deduction", "bonus"),
    [
        pytest.param(0, 4, 0, "-4", "0", id="none sent: −1 each, exactly at the cap"),
        pytest.param(3, 1, 0, "-1", "0", id="one short"),
        pytest.param(4, 0, 0, "0", "0", id="on quota"),
        pytest.param(9, 0, 5, "0", "1", id="five extra: +0.2 each"),
        pytest.param(30, 0, 26, "0", "2", id="many extra: capped at +2"),
    ],
)
def test_points_per_missing_and_extra_draft_are_capped(
    submitted: int, short: int, extra: int, deduction: str, bonus: str
) -> None:
    """The example profile's monthly quota: 4, −1 per missing (at most −4), +0.2 per extra (at most +2)."""
    quota = Quota(4, D(-1), D("0.2"), max_deduction=D(4), max_bonus=D(2))
    a = assess(quota, submitted=submitted, workdays=21)
    assert (a.short, a.extra, a.deduction, a.bonus) == (short, extra, D(deduction), D(bonus))
    assert a.bonus_capped == (submitted == 30)


def test_a_deduction_cap_applies_when_exceeded() -> None:
    """Six missing at −1 each with a cap of 4 is −4, and the assessment says it was capped."""
    a = assess(Quota(6, D(-1), max_deduction=D(4)), submitted=0, workdays=20)
    assert (a.deduction, a.deduction_capped) == (D(-4), True)


def test_min_workdays_is_configurable() -> None:
    """A profile may waive the weekly quota for weeks with fewer than 3 workdays (e.g. 2025-W40)."""
    quota = Quota(1, min_workdays=3)
    assert assess(quota, submitted=0, workdays=2).required == 0
    assert assess(quota, submitted=0, workdays=3).short == 1


LI = ("李娜", "盘山县应急管理局")


def test_the_new_year_week_counts_its_december_days_for_january() -> None:
    """A county bureau sends its only draft of 2026-W01 on 30 December 2025: W01 (Monday 29 December
    to Sunday 4 January, checked in January 2026) is met, and the draft fills December's monthly
    count, not January's."""
    subs = [draft(1, "盘山县应急管理局", "2025-12-30", LI)]
    common = {"units": UNITS, "submissions": subs, "profile": PANJIN, "calendar": WorkCalendar()}
    w01 = week_quota(week=parse_week("2026-W01"), **common)  # type: ignore[arg-type]
    december = month_quota(month=parse_month("2025-12"), **common)  # type: ignore[arg-type]
    january = month_quota(month=parse_month("2026-01"), **common)  # type: ignore[arg-type]
    county = [next(r for r in q.units if r.unit == "盘山县应急管理局") for q in (w01, december, january)]
    assert [(r.submitted, r.short) for r in county] == [(1, 0), (1, 3), (0, 4)]


@pytest.mark.parametrize(
    ("period", "first", "end"),
    [
        pytest.param("2026", "2025-12-29", "2027-01-04", id="2026: W01 from 29 December, W53 to 3 January"),
        pytest.param(
            "2025", "2024-12-30", "2026-01-01", id="2025: W01 from 30 December, W52 ends 28 December"
        ),
        pytest.param("2027", "2027-01-01", "2028-01-03", id="2027: 1–3 January are 2026-W53's"),
        pytest.param("2025-07", "2025-06-30", "2025-08-04", id="July: W27 from 30 June, W31 to 3 August"),
        pytest.param("2025-W25", "2025-06-16", "2025-06-23", id="a week holds no whole month: itself"),
    ],
)
def test_whole_weeks_widen_a_period_to_the_weeks_its_months_check(period: str, first: str, end: str) -> None:
    """The drafts a period's quotas count: every week checked in a month of it, Monday to Sunday."""
    if "-W" in period:
        span = parse_week(period)
    elif "-" in period:
        span = parse_month(period)
    else:
        span = Period(period, parse_month(f"{period}-01").start, parse_month(f"{period}-12").end)
    assert whole_weeks(span) == Period(period, at(first, 0), at(end, 0))


@pytest.mark.parametrize(
    ("profile", "year", "first", "end"),
    [
        # Panjin's regulation took effect on 9 May 2025: May checks the week from Monday 28 April.
        (PANJIN, 2025, "2025-04-28", "2026-01-01"),
        # In force all year: 2026-W01 begins on 29 December 2025, 2026-W53 ends on 3 January 2027.
        (PANJIN, 2026, "2025-12-29", "2027-01-04"),
        # A year before the regulation counts nothing, not even the days of its last week.
        (PANJIN, 2024, "2025-01-01", "2025-01-01"),
        # In force from New Year's Day 2025: January checks 2025-W01 from Monday 30 December 2024.
        (EXAMPLE, 2025, "2024-12-30", "2026-01-01"),
    ],
)
def test_drafts_count_for_a_year_from_its_first_checked_week_to_its_last(
    profile: Profile, year: int, first: str, end: str
) -> None:
    """What the daemon reads for a year: no draft outside counted_span counts for any month of it."""
    span = counted_span(profile, year)
    assert (span.start, span.end) == (at(first, 0), at(end, 0))
