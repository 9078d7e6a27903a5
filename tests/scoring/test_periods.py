"""Weeks and months are those of Asia/Shanghai, whatever the server's clock says."""

from datetime import UTC, datetime

import pytest

from scoring.periods import month_of, parse_month, parse_week, week_of


def test_a_draft_sent_late_sunday_evening_in_panjin_counts_for_that_week() -> None:
    """23:30 Sunday in Panjin is 15:30 UTC Sunday: still the same ISO week, not the next."""
    moment = datetime(2025, 6, 22, 15, 30, tzinfo=UTC)
    week = week_of(moment)
    assert week.label == "2025-W25"
    assert moment in week
    assert datetime(2025, 6, 22, 16, 0, tzinfo=UTC) not in week  # Monday 00:00 in Panjin


def test_the_first_hours_of_a_month_in_panjin_are_the_previous_month_in_utc() -> None:
    """A draft received at 07:00 on 1 July in Panjin belongs to July, though it is 30 June in UTC."""
    assert month_of(datetime(2025, 6, 30, 23, 0, tzinfo=UTC)).label == "2025-07"


@pytest.mark.parametrize(("label", "days"), [("2025-W01", 7), ("2020-W53", 7)])
def test_week_labels_parse_to_seven_days(label: str, days: int) -> None:
    """ISO week labels of the CLI, including a 53rd week."""
    week = parse_week(label)
    assert week.label == label
    assert (week.end - week.start).days == days


def test_december_ends_at_new_year() -> None:
    """The month after December is January of the next year."""
    december = parse_month("2025-12")
    assert december.end.year == 2026
    assert december.end.month == 1


def test_bad_labels_are_refused() -> None:
    """A mistyped period is a ValueError the CLI turns into a Chinese message."""
    with pytest.raises(ValueError, match="month must be in"):
        parse_month("2025-13")
