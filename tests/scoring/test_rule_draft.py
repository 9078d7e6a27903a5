"""Rule `draft`: 0.3 for each accepted draft (Panjin), split among its authors; capped per month elsewhere."""

from __future__ import annotations

from decimal import Decimal

from scoring.profile_toml import parse_profile
from tests.scoring.builders import EXAMPLE, D, draft, month, rules_of

W, L, Z = ("王强", "危化科"), ("李明", "危化科"), ("赵敏", "综合行政执法队")


def test_each_accepted_draft_scores_point_three_and_the_rest_nothing() -> None:
    """危化科 sends three drafts in June; one was rejected, one a duplicate: 0.6 in all."""
    scores = month(
        "2025-06",
        subs=[
            draft(1, "危化科", "2025-06-03", W),
            draft(2, "危化科", "2025-06-10", L),
            draft(3, "危化科", "2025-06-11", W, status="rejected"),
            draft(4, "危化科", "2025-06-12", W, status="duplicate"),
        ],
    )
    lines = [line for line in scores.unit("危化科").lines if line.rule == "draft"]
    assert [(line.submission_id, line.points, line.person) for line in lines] == [
        (1, D("0.3"), "王强"),
        (2, D("0.3"), "李明"),
    ]
    assert lines[0].note == "《稿件1》报送计0.3分，撰稿人王强"
    assert scores.unit("危化科").submitted == 2


def test_a_draft_written_by_three_gives_each_a_tenth_in_their_own_unit() -> None:
    """王强 and 李明 of 危化科 wrote it with 执法队's 赵敏: 0.2 to 危化科, 0.1 to 执法队, named."""
    scores = month("2025-06", subs=[draft(1, "危化科", "2025-06-05", W, L, Z, title="联合夜查")])
    assert [r for r in rules_of(scores, "危化科") if r[0] == "draft"] == [
        ("draft", D("0.1"), "王强"),
        ("draft", D("0.1"), "李明"),
    ]
    (line,) = [x for x in scores.unit("综合行政执法队").lines if x.rule == "draft"]
    assert (line.points, line.person, line.submission_id) == (D("0.1"), "赵敏", 1)
    assert line.note == "《联合夜查》报送计0.3分（危化科报送），3人合写，赵敏得0.1分"
    assert scores.unit("综合行政执法队").submitted == 0  # the draft is 危化科's for the quota


def test_a_draft_without_authors_scores_to_the_unit_with_a_reason() -> None:
    """No 撰稿人 line was readable: the unit gets 0.3, nobody personally."""
    scores = month("2025-06", subs=[draft(1, "危化科", "2025-06-05")])
    (line,) = [x for x in scores.unit("危化科").lines if x.rule == "draft"]
    assert (line.points, line.person) == (D("0.3"), None)
    assert line.note.endswith("未署撰稿人，全部计入报送单位")
    assert scores.people == ()


def test_a_draft_from_an_unconfigured_unit_is_not_scored_but_logged() -> None:
    """A unit removed from config.toml: its drafts score nowhere, and the operator gets a warning."""
    scores = month("2025-06", subs=[draft(7, "市消防支队", "2025-06-05", W)])
    assert all(line.rule != "draft" for u in scores.units for line in u.lines)
    assert scores.warnings == ("submission 7: sending unit '市消防支队' is not configured; not scored",)


def test_the_example_cap_stops_draft_points_at_five_a_month() -> None:
    """0.5 a draft, at most 5 a month: of twelve drafts the tenth reaches the cap, the last two score 0."""
    subs = [draft(i, "危化科", f"2025-06-{i + 2:02d}", W) for i in range(1, 13)]
    scores = month("2025-06", subs=subs, profile=EXAMPLE)
    lines = [x for x in scores.unit("危化科").lines if x.rule == "draft"]
    assert [x.points for x in lines] == [D("0.5")] * 10 + [D(0), D(0)]
    assert sum(x.points for x in lines) == 5
    assert lines[-1].person is None
    assert lines[-1].note == "《稿件12》报送计0.5分，但本月报送分已达上限5分，不再计分"


def test_a_cap_reached_mid_draft_scores_the_remainder() -> None:
    """Department drafts at 0.3 with a cap of 1 (a profile of our own): the fourth draft scores 0.1."""
    profile = parse_profile(
        'name = "cap"\n[[versions]]\neffective_from = 2025-01-01\n[versions.draft]\npoints = 0.3\ncap = 1\n',
        source="cap",
    )
    subs = [draft(i, "危化科", f"2025-06-0{i + 2}", W) for i in range(1, 6)]
    lines = [
        x for x in month("2025-06", subs=subs, profile=profile).unit("危化科").lines if x.rule == "draft"
    ]
    assert [x.points for x in lines] == [D("0.3"), D("0.3"), D("0.3"), D("0.1"), D(0)]
    assert "本月报送分达到上限1分，实计0.1分" in lines[3].note


def test_the_raised_cap_applies_from_july_only() -> None:
    """The example profile's cap rises from 5 to 6 on 1 July: June's 14 drafts give 5, July's give 6."""
    june = [draft(i, "危化科", f"2025-06-{i + 2:02d}", W) for i in range(1, 15)]
    july = [draft(100 + i, "危化科", f"2025-07-{i + 2:02d}", W) for i in range(1, 15)]

    def total(label: str) -> Decimal:
        scores = month(label, subs=june + july, profile=EXAMPLE)
        return sum((x.points for x in scores.unit("危化科").lines if x.rule == "draft"), Decimal(0))

    assert (total("2025-06"), total("2025-07")) == (5, 6)
