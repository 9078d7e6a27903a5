"""The work calendar: the State Council's holidays and 调休, Monday–Friday beyond them, local overrides."""

from __future__ import annotations

from datetime import date

import pytest

from scoring.calendar import CalendarError, WorkCalendar, calendar_from_config
from scoring.periods import parse_week


def test_national_day_2025_and_its_adjusted_workdays() -> None:
    """10月1–8日 are off; Sunday 28 September and Saturday 11 October are workdays (调休)."""
    cal = WorkCalendar()
    assert all(not cal.is_workday(date(2025, 10, d)) for d in range(1, 9))
    assert cal.is_workday(date(2025, 9, 28))
    assert cal.is_workday(date(2025, 10, 11))
    assert cal.holiday_name(date(2025, 10, 3)) == "国庆节"
    assert cal.holiday_name(date(2025, 10, 11)) is None
    assert cal.warnings == ()


@pytest.mark.parametrize(
    ("week", "workdays"),
    [
        pytest.param("2025-W39", 6, id="W39 Mon 22 – Sun 28 Sep: five days and the adjusted Sunday"),
        pytest.param("2025-W40", 2, id="W40 Mon 29 Sep – Sun 5 Oct: only Monday and Tuesday"),
        pytest.param("2025-W41", 3, id="W41 Mon 6 – Sun 12 Oct: Thursday, Friday and the adjusted Saturday"),
    ],
)
def test_national_day_weeks_count_their_real_workdays(week: str, workdays: int) -> None:
    """The weekly quota looks at these counts; none of the three weeks is without workdays."""
    assert len(WorkCalendar().workdays(parse_week(week))) == workdays


def test_the_spring_festival_2026_empties_a_whole_week() -> None:
    """15–23 February 2026 are off, Saturday 14 and 28 February are worked: W08 has no workday at all."""
    cal = WorkCalendar()
    assert cal.workdays(parse_week("2026-W08")) == ()
    assert len(cal.workdays(parse_week("2026-W07"))) == 6
    assert cal.workdays(parse_week("2026-W09"))[0] == date(2026, 2, 24)
    assert cal.is_workday(date(2026, 2, 28))
    assert cal.holiday_name(date(2026, 2, 17)) == "春节"


def test_a_year_the_library_does_not_know_falls_back_to_monday_to_friday_with_a_warning() -> None:
    """2027 is not published yet: National Day 2027 is an ordinary Friday, and the operator is told."""
    cal = WorkCalendar()
    assert not WorkCalendar.knows(2027)
    assert WorkCalendar.knows(2026)
    assert cal.warnings == ()
    assert cal.is_workday(date(2027, 10, 1))
    assert not cal.is_workday(date(2027, 10, 2))
    assert len(cal.workdays(parse_week("2027-W05"))) == 5
    assert cal.fallback_years == (2027,)
    assert len(cal.warnings) == 1
    assert "no data for 2027" in cal.warnings[0]
    assert cal.holiday_name(date(2027, 10, 1)) is None


def test_config_overrides_fill_in_an_unknown_year_and_win_over_the_library() -> None:
    """The office lists 2027's Spring Festival by hand, and a local day off in 2025 (a typhoon closure)."""
    cal = calendar_from_config(
        {"holidays": [date(2027, 2, 8), "2027-02-09", date(2025, 6, 10)], "workdays": ["2027-02-06"]}
    )
    assert not cal.is_workday(date(2027, 2, 8))
    assert not cal.is_workday(date(2027, 2, 9))
    assert cal.is_workday(date(2027, 2, 6))  # a Saturday
    assert cal.fallback_years == ()  # only overridden days of 2027 were asked so far
    assert not cal.is_workday(date(2025, 6, 10))  # a Tuesday the library calls a workday
    assert len(cal.workdays(parse_week("2025-W24"))) == 4


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param({"holiday": []}, "无法识别的项：holiday", id="misspelt key"),
        pytest.param({"holidays": "2027-02-08"}, "应为日期列表", id="not a list"),
        pytest.param({"holidays": ["2027-2-30"]}, "不是日期", id="bad date"),
        pytest.param(
            {"holidays": ["2027-02-08"], "workdays": ["2027-02-08"]}, "同时列为工作日和节假日", id="both"
        ),
    ],
)
def test_bad_override_tables_are_refused_in_chinese(raw: dict[str, object], message: str) -> None:
    """The operator sees what to fix in config.toml."""
    with pytest.raises(CalendarError, match=message):
        calendar_from_config(raw)
