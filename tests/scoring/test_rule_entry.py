"""Rule `entry:<kind>`: what the office enters by hand — monthly items, bonuses, deductions."""

from __future__ import annotations

from decimal import Decimal

from scoring.results import MonthScores
from tests.scoring.builders import EXAMPLE, D, draft, entry, month

W, L, Z = ("王强", "危化科"), ("李明", "危化科"), ("赵敏", "综合行政执法队")
SUBS = [draft(1, "危化科", "2025-06-05", W, L, Z, title="联合夜查")]


def _entries(scores: MonthScores, unit: str) -> list[tuple[str, Decimal, str | None]]:
    lines = scores.unit(unit).lines
    return [(x.rule, x.points, x.person) for x in lines if x.rule.startswith("entry")]


def test_a_monthly_column_material_item_takes_the_profiles_default() -> None:
    """The example profile's 栏目素材 is worth 2 a month; the office enters it for 宣教科 on any day of June."""
    scores = month(
        "2025-06", entries=[entry(1, "column_material", "2025-06-30", unit="宣教科")], profile=EXAMPLE
    )
    assert _entries(scores, "宣教科") == [("entry:column_material", D(2), None)]
    assert scores.unit("宣教科").lines[0].note == "栏目素材加2分"
    assert (
        _entries(
            month("2025-07", entries=[entry(1, "column_material", "2025-06-30", unit="宣教科")]), "宣教科"
        )
        == []
    )


def test_a_leader_instruction_on_a_co_authored_draft_is_split_like_the_draft() -> None:
    """领导批示 (3 in the example) on a draft by three people in two units: a point each."""
    scores = month(
        "2025-06",
        subs=SUBS,
        entries=[entry(1, "leader_instruction", "2025-06-20", submission_id=1, note="市长批示")],
        profile=EXAMPLE,
    )
    assert _entries(scores, "危化科") == [
        ("entry:leader_instruction", D(1), "王强"),
        ("entry:leader_instruction", D(1), "李明"),
    ]
    assert _entries(scores, "综合行政执法队") == [("entry:leader_instruction", D(1), "赵敏")]
    first = next(x for x in scores.unit("危化科").lines if x.rule == "entry:leader_instruction")
    assert first.note == "领导批示：《联合夜查》加3分（市长批示），3人合写，王强得1分"


def test_a_deduction_subtracts_whatever_sign_was_typed() -> None:
    """The office types “0.5” for 迟报: it is −0.5; with no figure the default (0.5) applies, also negative."""
    entries = [
        entry(1, "late", "2025-06-20", unit="宣教科", points="0.5"),
        entry(2, "late", "2025-06-21", unit="宣教科"),
        entry(3, "late", "2025-06-22", unit="宣教科", points="-1"),
    ]
    scores = month("2025-06", entries=entries, profile=EXAMPLE)
    assert [p for _, p, _ in _entries(scores, "宣教科")] == [D("-0.5"), D("-0.5"), D(-1)]
    assert scores.unit("宣教科").lines[0].note == "迟报扣0.5分"


def test_an_entry_may_name_the_person_it_is_for() -> None:
    """A typo deduction the office pins on 赵敏 alone goes to her unit and her, not split."""
    scores = month(
        "2025-06",
        subs=SUBS,
        entries=[entry(1, "typos", "2025-06-20", submission_id=1, person="赵敏", points="0.2")],
    )
    assert _entries(scores, "综合行政执法队") == [("entry:typos", D("-0.2"), "赵敏")]
    assert _entries(scores, "危化科") == []


def test_a_solicitation_is_bounded_by_the_regulations_three_points() -> None:
    """约稿 scores 0–3 by quality (三(二)1): a 5 typed by mistake counts 3, and the line says so."""
    scores = month(
        "2025-06",
        subs=SUBS,
        entries=[entry(1, "solicitation", "2025-06-20", submission_id=1, person="王强", points="5")],
    )
    (line,) = [x for x in scores.unit("危化科").lines if x.rule == "entry:solicitation"]
    assert line.points == 3
    assert "（超过上限，按3分计）" in line.note


def test_an_item_without_a_figure_needs_one_from_the_office() -> None:
    """Panjin's 领导批示 has no figure in the regulation: an entry without points is listed at 0."""
    scores = month(
        "2025-06", subs=SUBS, entries=[entry(1, "leader_instruction", "2025-06-20", submission_id=1)]
    )
    (line,) = [x for x in scores.unit("危化科").lines if x.rule == "entry:leader_instruction"]
    assert (line.points, line.person) == (D(0), None)
    assert line.note == "领导批示：《联合夜查》计0分（未填写分值）"


def test_an_unknown_kind_is_shown_at_zero() -> None:
    """An entry of a kind the profile does not define is visible, not silently dropped."""
    scores = month("2025-06", entries=[entry(1, "website_bonus", "2025-06-20", unit="宣教科", points="1")])
    (line,) = [x for x in scores.unit("宣教科").lines if x.rule == "entry:website_bonus"]
    assert line.points == 0
    assert line.note == "计分项目“website_bonus”不在本期计分规则中，不计分"


def test_entries_for_unknown_units_or_drafts_are_logged() -> None:
    """The operator hears of entries that cannot be placed."""
    scores = month(
        "2025-06",
        entries=[
            entry(1, "late", "2025-06-20", unit="消防支队", points="1"),
            entry(2, "late", "2025-06-20", submission_id=99),
        ],
    )
    assert scores.warnings == (
        "entry 1: unit '消防支队' is not configured; not scored",
        "entry 2: submission 99 was not handed in; not scored",
    )
