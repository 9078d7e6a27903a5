"""Rule `quota:week` / `quota:month` in a month's score: every shortfall listed, points as the profile says."""

from __future__ import annotations

from decimal import Decimal

from scoring.results import MonthScores
from tests.scoring.builders import EXAMPLE, D, at, draft, month

W = ("王强", "危化科")
P = ("李娜", "盘山县应急管理局")


def _quota(scores: MonthScores, unit: str) -> list[tuple[str, Decimal, str]]:
    lines = scores.unit(unit).lines
    return [(x.rule, x.points, x.note) for x in lines if x.rule.startswith("quota")]


def test_panjin_lists_each_missed_week_and_the_missed_month_at_zero_points() -> None:
    """危化科 sends 3 drafts in June, none in W24 or W26: two week lines and the month line, all 0."""
    subs = [
        draft(1, "危化科", "2025-06-03", W),
        draft(2, "危化科", "2025-06-04", W),
        draft(3, "危化科", "2025-06-17", W),
    ]
    assert _quota(month("2025-06", subs=subs), "危化科") == [
        (
            "quota:week",
            D(0),
            "2025-W24（6月9日至6月15日）报送0篇，每周应报1篇，少报1篇，通报批评（计分规则未定扣分分值，不扣分）",
        ),
        (
            "quota:week",
            D(0),
            "2025-W26（6月23日至6月29日）报送0篇，每周应报1篇，少报1篇，通报批评（计分规则未定扣分分值，不扣分）",
        ),
        (
            "quota:month",
            D(0),
            "2025年6月报送3篇，每月应报4篇，少报1篇，通报批评（计分规则未定扣分分值，不扣分）",
        ),
    ]


def test_a_unit_meeting_every_quota_has_no_quota_line() -> None:
    """One draft in each of June's four weeks: nothing to list."""
    subs = [
        draft(i, "危化科", day, W)
        for i, day in enumerate(["2025-06-03", "2025-06-10", "2025-06-17", "2025-06-24"])
    ]
    assert _quota(month("2025-06", subs=subs), "危化科") == []


def test_the_last_week_of_june_is_checked_in_july() -> None:
    """W27 (30 June – 6 July) belongs to July: June does not list it, July does; the 30 June draft fills it."""
    june = month("2025-06", subs=[draft(1, "危化科", "2025-06-30", W)])
    july = month("2025-07", subs=[draft(1, "危化科", "2025-06-30", W)])
    assert not [n for _, _, n in _quota(june, "危化科") if "W27" in n]
    assert not [n for _, _, n in _quota(july, "危化科") if "W27" in n]
    assert [n for _, _, n in _quota(july, "宣教科") if "W27" in n]


def test_the_spring_festival_week_has_no_quota() -> None:
    """February 2026: W07, W09 are listed for a silent unit, W08 (no workday) is not."""
    notes = [n for r, _, n in _quota(month("2026-02"), "宣教科") if r == "quota:week"]
    assert [n[:8] for n in notes] == ["2026-W06", "2026-W07", "2026-W09"]


def test_the_example_deducts_per_missing_draft_up_to_its_cap() -> None:
    """A department sends 1 of 4 (−3); a county bureau sends none of 6: −4 (capped), −0.5 per missed week."""
    scores = month("2025-06", subs=[draft(1, "危化科", "2025-06-03", W)], profile=EXAMPLE)
    assert _quota(scores, "危化科") == [
        ("quota:month", D(-3), "2025年6月报送1篇，每月应报4篇，少报3篇，扣3分")
    ]
    county = _quota(scores, "盘山县应急管理局")
    assert [p for _, p, _ in county] == [D("-0.5")] * 4 + [D(-4)]
    assert county[-1][2] == "2025年6月报送0篇，每月应报6篇，少报6篇，扣4分（扣分上限4分）"


def test_the_example_pays_for_extra_drafts_up_to_its_cap() -> None:
    """Nine drafts against 4: +1 (five extra at 0.2); twenty: +2, the cap."""
    nine = [draft(i, "危化科", f"2025-06-{i + 2:02d}", W) for i in range(1, 10)]
    twenty = [draft(i, "危化科", f"2025-06-{i + 2:02d}", W) for i in range(1, 21)]
    assert _quota(month("2025-06", subs=nine, profile=EXAMPLE), "危化科") == [
        ("quota:month", D(1), "2025年6月报送9篇，超出每月应报4篇5篇，加1分")
    ]
    assert _quota(month("2025-06", subs=twenty, profile=EXAMPLE), "危化科")[0][1:] == (
        D(2),
        "2025年6月报送20篇，超出每月应报4篇16篇，加2分（加分上限2分）",
    )


def test_a_month_scored_before_it_ends_checks_only_finished_weeks() -> None:
    """On Wednesday 18 June, W23 and W24 are judged; W25, W26 and the month are not yet."""
    scores = month("2025-06", now=at("2025-06-18"))
    notes = [n for _, _, n in _quota(scores, "宣教科")]
    assert [n[:8] for n in notes] == ["2025-W23", "2025-W24"]


def test_a_week_of_a_year_the_calendar_does_not_know_is_checked_monday_to_friday() -> None:
    """January 2027: quotas still apply on a Monday–Friday calendar, and the operator is warned."""
    scores = month("2027-01")
    assert len([r for r, _, _ in _quota(scores, "宣教科") if r == "quota:week"]) == 4
    assert any("no data for 2027" in w for w in scores.warnings)
