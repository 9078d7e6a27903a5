"""The engine: every unit appears, scores add up, cumulative runs over the year, JSON as DESIGN.md says."""

from __future__ import annotations

import gc
import json
from decimal import Decimal

from scoring.engine import collector_paused
from scoring.profile_toml import parse_profile
from scoring.results import format_points
from tests.scoring.builders import UNITS, D, adopt, at, draft, history, month, year

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
