"""Columns (栏目): the cycle periods judged each month, items scored, shortfalls listed and split."""

from __future__ import annotations

import itertools
from datetime import date, datetime

import pytest

from scoring.calendar import WorkCalendar
from scoring.columns import cycle_periods, fortnight_of, responsible
from scoring.engine import score_month
from scoring.periods import day_of, parse_month
from scoring.profile import CYCLES, Column, Profile, ProfileError
from scoring.profile_toml import parse_profile
from scoring.records import SubmissionRecord, UnitRecord
from scoring.results import MonthScores
from tests.scoring.builders import PANJIN, D, at, draft

CAL = WorkCalendar()
START = date(2025, 1, 1)


def labels(cycle: str, month: str) -> list[str]:
    return [p.label for p in cycle_periods(cycle, parse_month(month), CAL)]  # type: ignore[arg-type]


def test_daily_is_every_workday_so_the_national_day_holiday_owes_nothing_and_a_saturday_does() -> None:
    """October 2025: 1–8 October are holidays; Saturday 11 October is an adjusted workday (调休)."""
    days = labels("daily", "2025-10")
    assert "2025-10-01" not in days
    assert "2025-10-08" not in days
    assert days[0] == "2025-10-09"
    assert "2025-10-11" in days
    assert "2025-10-12" not in days  # a Sunday
    assert len(days) == len(CAL.workdays(parse_month("2025-10")))


def test_weekly_weeks_belong_to_the_month_of_their_thursday() -> None:
    """W27 (30 June – 6 July 2025) is judged in July; W01 of 2026 (29 Dec – 4 Jan) in January."""
    assert "2025-W27" not in labels("weekly", "2025-06")
    assert labels("weekly", "2025-07")[0] == "2025-W27"
    assert "2026-W01" not in labels("weekly", "2025-12")
    assert labels("weekly", "2026-01")[0] == "2026-W01"


def test_biweekly_fortnights_run_on_across_the_year_end_and_are_judged_once() -> None:
    """The fortnight of 29 Dec 2025 – 11 Jan 2026 is judged in January; every fortnight exactly once."""
    crossing = fortnight_of(date(2025, 12, 31))
    assert day_of(crossing.start) == date(2025, 12, 29)
    assert day_of(crossing.end) == date(2026, 1, 12)
    assert crossing.label == "2026-W01/W02"
    assert crossing not in cycle_periods("biweekly", parse_month("2025-12"), CAL)
    assert crossing in cycle_periods("biweekly", parse_month("2026-01"), CAL)
    seen = [
        p
        for y in (2025, 2026)
        for m in range(1, 13)
        for p in cycle_periods("biweekly", parse_month(f"{y}-{m:02d}"), CAL)
    ]
    assert len(seen) == len(set(seen))
    for before, after in itertools.pairwise(seen):
        assert before.end == after.start  # contiguous: no fortnight skipped


def test_monthly_quarterly_yearly_and_on_demand() -> None:
    """A month its own; a quarter in its last month (Q2 spans April–June); the year in December."""
    assert labels("monthly", "2025-02") == ["2025-02"]
    assert labels("quarterly", "2025-05") == []
    quarter = cycle_periods("quarterly", parse_month("2025-06"), CAL)[0]
    assert quarter.label == "2025-Q2"
    assert day_of(quarter.start) == date(2025, 4, 1)
    assert labels("yearly", "2025-11") == []
    year = cycle_periods("yearly", parse_month("2025-12"), CAL)[0]
    assert day_of(year.start) == date(2025, 1, 1)
    assert day_of(year.end) == date(2026, 1, 1)
    for m in range(1, 13):
        assert labels("on_demand", f"2025-{m:02d}") == []


PROFILE = """
name = "t"
title = "栏目测试"
[[versions]]
effective_from = 2025-01-01
[versions.draft]
points = 0.3
[versions.columns]
"动态要闻" = { channel = "website", cycle = "daily", units = ["宣教科"], points = 0.3, per_missing = -0.3 }
"头条新闻" = { channel = "website", cycle = "biweekly", units = ["宣教科"], points = 0.3, per_missing = -0.3 }
"通知公告" = { channel = "website", cycle = "weekly", units = ["department"], points = 0.3, per_missing = -0.3 }
"部门文件" = { channel = "website", cycle = "monthly", units = ["法规科", "局办公室"], points = 0.5, per_missing = -0.5 }
"意见征集" = { channel = "website", cycle = "quarterly", units = ["局办公室"], points = 0.3, per_missing = -0.3 }
"预算决算" = { channel = "website", cycle = "yearly", units = ["局办公室", "中心办公室"], points = 0.3, per_missing = -0.3 }
"县区应急专栏" = { channel = "wechat", cycle = "weekly", units = ["county"], per_unit = true, points = 0.3 }
"热点新闻" = { channel = "website", cycle = "on_demand", units = ["宣教科"], points = 0.3, per_missing = -0.3 }
"""
UNITS = (
    UnitRecord("宣教科", "department", 1),
    UnitRecord("法规科", "department", 2),
    UnitRecord("局办公室", "department", 3),
    UnitRecord("盘山县应急管理局", "county", 4),
    UnitRecord("大洼区应急管理局", "county", 5),
)


def score(
    month: str,
    subs: tuple[SubmissionRecord, ...],
    *,
    profile: Profile | None = None,
    columns_from: date | None = START,
    now: datetime | None = None,
) -> MonthScores:
    return score_month(
        month=parse_month(month),
        units=UNITS,
        submissions=subs,
        adoptions=(),
        entries=(),
        history=(),
        profile=profile or parse_profile(PROFILE, source="t"),
        calendar=CAL,
        now=now,
        columns_from=columns_from,
    )


def missing(scores: MonthScores, unit: str) -> dict[str, tuple[str, str]]:
    return {
        line.rule.split(":")[1]: (str(line.points), line.note)
        for line in scores.unit(unit).lines
        if line.rule.endswith(":missing")
    }


def every_day(
    column: str, month: str, unit: str = "宣教科", first_id: int = 1
) -> tuple[SubmissionRecord, ...]:
    days = CAL.workdays(parse_month(month))
    return tuple(
        draft(first_id + i, unit, d.isoformat(), ("王强", unit), category=column) for i, d in enumerate(days)
    )


def test_a_policy_document_scores_the_column_points_instead_of_the_draft_points() -> None:
    """法规科 files 部门文件 by tag: 0.5 (column), no 0.3 draft line; it fulfils the month for 局办公室 too."""
    sub = draft(
        1, "法规科", "2025-06-10", ("李明", "法规科"), title="市安委会关于…的通知", category="部门文件"
    )
    scores = score("2025-06", (sub,))
    lines = scores.unit("法规科").lines
    assert [(x.rule, x.points) for x in lines if x.submission_id == 1] == [("column:部门文件", D("0.5"))]
    assert "部门文件" not in missing(scores, "法规科")
    assert "部门文件" not in missing(scores, "局办公室")


def test_a_shared_monthly_column_missed_splits_the_deduction_between_its_units() -> None:
    """Nobody sent 部门文件 in June: −0.5 in all, −0.25 to 法规科 and −0.25 to 局办公室."""
    scores = score("2025-06", ())
    points, note = missing(scores, "法规科")["部门文件"]
    assert points == "-0.2500"
    assert "由法规科、局办公室共同负责" in note
    assert "共扣0.5分" in note
    assert missing(scores, "局办公室")["部门文件"][0] == "-0.2500"


def test_daily_misses_are_one_line_listing_the_days() -> None:
    """宣教科 updates 动态要闻 every workday of June but the 3rd and the 4th: −0.6, days named."""
    subs = tuple(s for s in every_day("动态要闻", "2025-06") if s.received_at.day not in (3, 4))
    points, note = missing(score("2025-06", subs), "宣教科")["动态要闻"]
    assert points == "-0.6"
    assert "6月3日、6月4日未报送，少报2条，扣0.6分" in note


def test_per_unit_weekly_columns_judge_each_county_and_list_a_zero_figure() -> None:
    """县区应急专栏: 盘山县 sends every week of July, 大洼区 none; its misses are listed at 0 points."""
    weeks = cycle_periods("weekly", parse_month("2025-07"), CAL)
    subs = tuple(
        draft(i, "盘山县应急管理局", day_of(w.start).isoformat(), category="县区应急专栏")
        for i, w in enumerate(weeks, 1)
    )
    scores = score("2025-07", subs)
    assert "县区应急专栏" not in missing(scores, "盘山县应急管理局")
    points, note = missing(scores, "大洼区应急管理局")["县区应急专栏"]
    assert D(points) == 0
    assert f"少报{len(weeks)}条" in note
    assert "不扣分" in note


def test_a_weekly_column_item_sent_in_june_fills_a_week_judged_in_july() -> None:
    """An item of Monday 30 June fills 2025-W27, which July judges."""
    sub = draft(1, "法规科", "2025-06-30", category="通知公告")
    july = score("2025-07", (sub,))
    assert "2025-W27" not in missing(july, "宣教科")["通知公告"][1]
    assert "2025-W28" in missing(july, "宣教科")["通知公告"][1]


def test_the_spring_festival_week_owes_no_weekly_item() -> None:
    """2026-W08 (16–22 February) has no workday: 通知公告 is not short that week."""
    note = missing(score("2026-02", ()), "宣教科")["通知公告"][1]
    assert "2026-W07" in note
    assert "2026-W08" not in note


def test_quarterly_and_yearly_columns_are_judged_in_the_last_month_and_across_it() -> None:
    """意见征集 of 2 April fills Q2 (judged in June); 预算决算 is judged in December only."""
    sub = draft(1, "局办公室", "2025-04-02", category="意见征集")
    assert "意见征集" not in missing(score("2025-06", (sub,)), "局办公室")
    assert "意见征集" in missing(score("2025-09", (sub,)), "局办公室")
    assert "预算决算" not in missing(score("2025-11", ()), "局办公室")
    assert missing(score("2025-12", ()), "局办公室")["预算决算"][0] == "-0.3"


def test_the_december_fortnight_that_ends_in_january_is_judged_in_january() -> None:
    """头条新闻 sent on 2 January 2026 fills the fortnight 29 Dec – 11 Jan, judged in January."""
    sub = draft(1, "宣教科", "2026-01-02", category="头条新闻")
    december = missing(score("2025-12", ()), "宣教科")["头条新闻"][1]
    assert "2026-W01/W02" not in december
    assert "2026-W01/W02" in missing(score("2026-01", ()), "宣教科")["头条新闻"][1]
    january = missing(score("2026-01", (sub,)), "宣教科")["头条新闻"][1]
    assert "2026-W01/W02" not in january
    assert "2026-W03/W04" in january


def test_without_columns_from_nothing_is_short_and_periods_before_it_are_not_judged() -> None:
    """Columns are judged only from the day the office began tracking them, and only once over."""
    assert missing(score("2025-06", (), columns_from=None), "宣教科") == {}
    late = missing(score("2025-06", (), columns_from=date(2025, 6, 16)), "宣教科")["动态要闻"][1]
    assert "6月13日" not in late
    assert "6月16日" in late
    ongoing = missing(score("2025-06", (), now=at("2025-06-11")), "宣教科")["动态要闻"][1]
    assert "6月10日" in ongoing
    assert "6月11日" not in ongoing
    assert "部门文件" not in missing(score("2025-06", (), now=at("2025-06-11")), "法规科")


def test_unknown_responsible_names_are_reported_and_on_demand_columns_never_short() -> None:
    """预算决算 names 中心办公室, not configured: a warning; 热点新闻 (即时更新) never has a line."""
    scores = score("2025-12", ())
    assert any("中心办公室" in w for w in scores.warnings)
    assert "热点新闻" not in missing(scores, "宣教科")
    column = Column("x", "website", "monthly", ("法规科", "county", "消防支队"), D("0.3"), D("-0.3"))
    names, unknown = responsible(column, UNITS)
    assert names == ("法规科", "盘山县应急管理局", "大洼区应急管理局")
    assert unknown == ("消防支队",)


def test_the_panjin_profile_ships_both_attachments() -> None:
    """附件1 (WeChat) and 附件2 (website): every cycle kind, 0.5 for policy documents."""
    columns = PANJIN.versions[0].default.columns
    assert {c.cycle for c in columns} == set(CYCLES)
    by_name = {c.name: c for c in columns}
    assert by_name["部门文件"].per_missing == D("-0.5")
    assert by_name["文件解读"].points == D("0.5")
    assert by_name["新闻时事"].channel == "wechat"
    assert by_name["新闻时事"].per_unit
    assert by_name["动态要闻"].cycle == "daily"
    assert by_name["头条新闻"].cycle == "biweekly"


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ('cycle = "fortnightly"', "cycle 应为"),
        ('channel = "weibo"', "channel 应为"),
        ('units = "宣教科"', "units 应为文字列表"),
        ("pointz = 1", "pointz 无法识别"),
    ],
)
def test_a_bad_column_is_refused_by_name(entry: str, complaint: str) -> None:
    """A typo in a column's table names the key, in Chinese."""
    base = {"channel": '"website"', "cycle": '"weekly"', "units": '["宣教科"]', "points": "0.3"}
    key = entry.split(" = ")[0]
    base[key] = entry.split(" = ")[1]
    body = ", ".join(f"{k} = {v}" for k, v in base.items())
    text = PROFILE.split("[versions.columns]")[0] + f'[versions.columns]\n"栏目" = {{ {body} }}\n'
    with pytest.raises(ProfileError, match=complaint):
        parse_profile(text, source="t")
