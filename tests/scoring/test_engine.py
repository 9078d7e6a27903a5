"""The engine: every unit appears, scores add up, cumulative runs over the year, JSON as DESIGN.md says."""

from __future__ import annotations

import gc
import json
from datetime import date, timedelta
from decimal import Decimal

from scoring.calendar import WorkCalendar, fallback_warning
from scoring.engine import collector_paused
from scoring.profile import Profile
from scoring.profile_toml import parse_profile
from scoring.quota import counted_span
from scoring.records import SubmissionRecord
from scoring.results import format_points
from tests.scoring.builders import EXAMPLE, PANJIN, UNITS, D, adopt, at, draft, history, month, year

W, L, Z = ("王强", "危化科"), ("李明", "危化科"), ("赵敏", "综合行政执法队")


def test_every_configured_unit_appears_in_display_order_even_with_nothing_sent() -> None:
    """A quiet month still lists all units, ordered by `order` (not input order), each score its lines' sum."""
    scores = month("2025-06", units=list(reversed(UNITS)))
    assert [u.unit for u in scores.units] == ["危化科", "综合行政执法队", "盘山县应急管理局", "宣教科"]
    for u in scores.units:
        assert u.score == sum((x.points for x in u.lines), Decimal(0))
        assert u.submitted == 0


def test_cumulative_adds_imported_history_and_earlier_months() -> None:
    """May imported (2.2), June scored (0.3 + adoption 1): July's cumulative is 3.5 plus July's 0.3."""
    subs = [draft(1, "危化科", "2025-06-10", W), draft(2, "危化科", "2025-07-08", W)]
    adoptions = [adopt(1, 1, "市委盘锦信息", "2025-06-28")]
    past = [history("危化科", "2025-05", 4, "2.2", 市政府政务信息=1)]
    june = month("2025-06", subs=subs, adoptions=adoptions, past=past).unit("危化科")
    july = month("2025-07", subs=subs, adoptions=adoptions, past=past).unit("危化科")
    assert (june.score, june.cumulative) == (D("1.3"), D("3.5"))
    assert (july.score, july.cumulative) == (D("0.3"), D("3.8"))


def test_a_history_month_shows_the_imported_figures_as_one_line() -> None:
    """May 2025 was kept in Excel: the imported score replaces scoring, and says where it came from."""
    scores = month("2025-05", past=[history("危化科", "2025-05", 4, "2.2", 市政府政务信息=1, 省级=0)])
    unit = scores.unit("危化科")
    assert (unit.submitted, unit.score) == (4, D("2.2"))
    assert [(x.rule, x.person) for x in unit.lines] == [("history", None)]
    assert unit.lines[0].note == "2025年5月历史数据（导入）：报送4篇，采用：市政府政务信息1篇，得分2.2分"
    assert scores.warnings == ()


def test_ledger_drafts_in_a_history_month_are_reported_not_double_counted() -> None:
    """The system ran in the last days of May too: the imported figure wins, the operator is told."""
    scores = month(
        "2025-05",
        subs=[draft(1, "危化科", "2025-05-29", W)],
        past=[history("危化科", "2025-05", 4, "2.2"), history("消防支队", "2025-05", 1, "0.3")],
    )
    assert scores.unit("危化科").score == D("2.2")
    assert scores.people == ()
    assert scores.warnings == (
        "history 2025-05: 危化科 also has 1 drafts in the ledger; the imported score is used",
        "history 2025-05: unit '消防支队' is not configured; ignored",
    )


def test_months_before_the_regulation_score_nothing() -> None:
    """April 2025 precedes the Panjin regulation: drafts are counted but earn nothing, no quota is checked."""
    scores = month("2025-04", subs=[draft(1, "危化科", "2025-04-10", W)])
    assert scores.unit("危化科").submitted == 1
    assert all(u.lines == () for u in scores.units)


def test_json_matches_the_design_contract_with_exact_points() -> None:
    """`scores --month --json`: the keys of DESIGN.md, points exact to 0.0001, score = sum of lines."""
    one_point = parse_profile(
        'name = "t"\n[[versions]]\neffective_from = 2025-01-01\n[versions.draft]\npoints = 1\n', source="t"
    )
    scores = month("2025-06", subs=[draft(1, "危化科", "2025-06-03", W, L, Z)], profile=one_point)
    data = json.loads(json.dumps(scores.to_json(), ensure_ascii=False))
    assert list(data) == ["month", "profile", "units", "people"]
    first = data["units"][0]
    assert list(first) == ["unit", "group", "submitted", "score", "cumulative", "lines"]
    assert list(first["lines"][0]) == ["rule", "points", "submission_id", "adoption_id", "person", "note"]
    assert [x["points"] for x in first["lines"]] == [0.3334, 0.3333]
    assert first["score"] == 0.6667
    assert data["units"][1]["score"] == 0.3333
    assert [(p["name"], p["unit"], p["score"]) for p in data["people"]] == [
        ("王强", "危化科", 0.3334),
        ("李明", "危化科", 0.3333),
        ("赵敏", "综合行政执法队", 0.3333),
    ]
    assert "people" not in scores.to_json(people=False)


def test_human_output_rounds_to_two_places_half_up() -> None:
    """Notices print 2 places; the JSON and the records keep 4."""
    assert [format_points(D(x)) for x in ("0.3334", "0.335", "8.1", "-0.5", "12", "0.004")] == [
        "0.33",
        "0.34",
        "8.1",
        "-0.5",
        "12",
        "0",
    ]


def test_the_year_lists_each_month_and_adds_up() -> None:
    """`scores --year 2025`: a `month` line per month with anything in it; the year total is their sum."""
    subs = [draft(1, "危化科", "2025-06-10", W), draft(2, "危化科", "2025-09-10", W, Z)]
    scores = year(2025, subs=subs, past=[history("危化科", "2025-05", 4, "2.2")])
    unit = scores.unit("危化科")
    assert [x.note for x in unit.lines][:3] == [
        "2025年5月得分2.2分（历史数据）",
        "2025年6月得分0.3分",
        "2025年7月得分0分",
    ]
    assert (
        unit.score == unit.cumulative == D("2.2") + D("0.3") + D("0.15") + D(-1) * 2
    )  # two missing articles
    assert unit.submitted == 4 + 2
    assert unit.score == scores.months[-1].unit("危化科").cumulative
    assert [m.month.label for m in scores.months] == [f"2025-{n:02d}" for n in range(1, 13)]
    zhao = next(p for p in scores.people if p.name == "赵敏")
    assert (zhao.unit, zhao.score, [x.note for x in zhao.lines]) == (
        "综合行政执法队",
        D("0.15"),
        ["2025年9月得分0.15分"],
    )
    assert scores.to_json()["year"] == "2025"


def test_the_current_year_stops_at_now() -> None:
    """Scored on 20 August, the year has January to August only, and August's open quotas are not judged."""
    scores = year(2025, subs=[draft(1, "危化科", "2025-08-04", W)], now=at("2025-08-20"))
    assert [m.month.label for m in scores.months][-1] == "2025-08"
    august = scores.months[-1].unit("危化科")
    assert all("W34" not in x.note and x.rule != "quota:month" for x in august.lines)


def test_people_are_ranked_by_score() -> None:
    """The year-end 先进个人 ranking reads `people` top down."""
    subs = [
        draft(1, "危化科", "2025-06-03", L),
        draft(2, "危化科", "2025-06-04", L),
        draft(3, "危化科", "2025-06-05", W),
    ]
    assert [(p.name, p.score) for p in month("2025-06", subs=subs).people] == [
        ("李明", D("0.6")),
        ("王强", D("0.3")),
    ]


def test_the_collector_is_paused_for_the_block_only() -> None:
    """Scoring pauses the cyclic garbage collector for speed and leaves it as it found it."""
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


# A county bureau whose only drafts of the weeks around New Year fall in the neighbouring year:
# 30 December 2025 (2026-W01, Monday 29 December – Sunday 4 January) and Saturday 2 January 2027
# (2026-W53, Monday 28 December – Sunday 3 January), plus a draft in each other week of 2026.
LI = ("李娜", "盘山县应急管理局")
COUNTY = "盘山县应急管理局"
BOUNDARY = (draft(1, COUNTY, "2025-12-30", LI), draft(2, COUNTY, "2027-01-02", LI))
WEEKLY = tuple(
    draft(10 + n, COUNTY, (date(2026, 1, 7) + timedelta(weeks=n)).isoformat(), LI) for n in range(51)
)


def counted(profile: Profile, number: int) -> list[SubmissionRecord]:
    """The drafts the daemon reads for `number` (quota.counted_span): no others count for it."""
    span = counted_span(profile, number)
    return [s for s in (*BOUNDARY, *WEEKLY) if s.received_at in span]


def test_january_checks_w01_over_its_december_days() -> None:
    """January 2026 finds W01 met by the draft of 30 December 2025, which scores 0.5 in December
    2025 and nowhere in 2026: neither a draft line nor a drop of January's cumulative score."""
    january = month("2026-01", subs=counted(EXAMPLE, 2026), profile=EXAMPLE).unit(COUNTY)
    assert not [x for x in january.lines if "W01" in x.note]
    assert not [x for x in january.lines if x.submission_id == 1]
    assert january.submitted == 4  # 7, 14, 21 and 28 January
    december = month("2025-12", subs=counted(EXAMPLE, 2025), profile=EXAMPLE).unit(COUNTY)
    assert [(x.rule, x.points) for x in december.lines if x.submission_id == 1] == [("draft", D("0.5"))]
    assert december.submitted == 1


def test_december_checks_w53_over_its_january_days_once_it_is_over() -> None:
    """2026-W53 ends on Sunday 3 January 2027: December 2026 finds it met by the draft of 2 January,
    which does not count for December; on New Year's Eve the week is still running and is not judged
    for anyone, from Monday 4 January it is (危化科 sent nothing, and Panjin lists the miss)."""
    subs = counted(PANJIN, 2026)
    over = month("2026-12", subs=subs, now=at("2027-01-04", 0))
    assert not [x for x in over.unit(COUNTY).lines if "W53" in x.note]
    assert over.unit(COUNTY).submitted == 4  # 2, 9, 16 and 23 December
    assert [x.note for x in over.unit("危化科").lines if "W53" in x.note] == [
        "2026-W53（12月28日至1月3日）报送0篇，每周应报1篇，少报1篇，通报批评（计分规则未定扣分分值，不扣分）"
    ]
    running = month("2026-12", subs=subs, now=at("2027-01-03", 23))
    assert not [x for u in running.units for x in u.lines if "W53" in x.note]


def test_the_years_around_a_new_year_week_score_each_draft_once() -> None:
    """`scores --year`: 2025 has the 30 December draft's 0.5, 2026 neither boundary draft, and 2026
    differs from a year read without its neighbours' days only by W01 and W53 being met (−0.5 each)."""
    y2025 = year(2025, subs=counted(EXAMPLE, 2025), profile=EXAMPLE)
    y2026 = year(2026, subs=counted(EXAMPLE, 2026), profile=EXAMPLE)
    inside = year(2026, subs=WEEKLY, profile=EXAMPLE)
    december = y2025.months[-1].unit(COUNTY)
    assert [x.points for x in december.lines if x.submission_id == 1] == [D("0.5")]
    assert y2025.unit(COUNTY).submitted == 1
    assert y2026.unit(COUNTY).submitted == inside.unit(COUNTY).submitted == 51
    assert y2026.unit(COUNTY).score - inside.unit(COUNTY).score == D("1")
    for fixed, before in zip(y2026.months, inside.months, strict=True):
        missed = [x for x in before.unit(COUNTY).lines if x not in fixed.unit(COUNTY).lines]
        assert [x.note[:8] for x in missed] == (
            {"2026-01": ["2026-W01"], "2026-12": ["2026-W53"]}.get(fixed.month.label, [])
        )
        assert all(x in before.unit(COUNTY).lines for x in fixed.unit(COUNTY).lines)


def test_december_2026_warns_that_w53_runs_into_a_year_the_calendar_may_lack() -> None:
    """W53 of 2026 ends in 2027, which chinesecalendar 1.11 does not know: December's score says so."""
    scores = month("2026-12", now=at("2027-01-10"))
    assert (fallback_warning(2027) in scores.warnings) == (not WorkCalendar.knows(2027))
