"""Rule `adoption:<channel>`: points when a channel takes up a draft, in the month of the adoption."""

from __future__ import annotations

from decimal import Decimal

from scoring.profile import Profile
from scoring.profile_toml import parse_profile
from scoring.results import Line
from tests.scoring.builders import EXAMPLE, PANJIN, D, adopt, draft, month

W, L = ("王强", "危化科"), ("李明", "危化科")
SUBS = [draft(1, "危化科", "2025-06-12", W, L, title="首批风险评估")]


def _adoptions(scores_unit_lines: tuple[Line, ...]) -> list[tuple[str, Decimal, str | None, int | None]]:
    return [
        (x.rule, x.points, x.person, x.adoption_id)
        for x in scores_unit_lines
        if x.rule.startswith("adoption")
    ]


def test_panjin_stacks_the_municipal_and_the_provincial_adoption() -> None:
    """市政府《政务信息》 (1) and the province (3) both take the draft: 4 points, split between its two authors."""
    scores = month(
        "2025-06",
        subs=SUBS,
        adoptions=[adopt(1, 1, "市政府政务信息", "2025-06-20"), adopt(2, 1, "省级", "2025-06-27")],
    )
    assert _adoptions(scores.unit("危化科").lines) == [
        ("adoption:市政府政务信息", D("0.5"), "王强", 1),
        ("adoption:市政府政务信息", D("0.5"), "李明", 1),
        ("adoption:省级", D("1.5"), "王强", 2),
        ("adoption:省级", D("1.5"), "李明", 2),
    ]
    last = [x for x in scores.unit("危化科").lines if x.rule == "adoption:省级"][-1]
    assert last.note == "《首批风险评估》被省级采用计3分，2人合写，李明得1.5分"


def test_an_adoption_counts_in_the_month_it_was_adopted() -> None:
    """A June draft in July's 市委《盘锦信息》: June has its 0.3, July the adoption point."""
    adoptions = [adopt(1, 1, "市委盘锦信息", "2025-07-03")]
    june, july = (month(m, subs=SUBS, adoptions=adoptions) for m in ("2025-06", "2025-07"))
    assert _adoptions(june.unit("危化科").lines) == []
    assert sum(x.points for x in july.unit("危化科").lines if x.rule.startswith("adoption")) == 1


def test_a_revoked_adoption_does_not_count() -> None:
    """The office recorded the national adoption by mistake and revoked it: nothing is left of it."""
    scores = month(
        "2025-06", subs=SUBS, adoptions=[adopt(1, 1, "国家级", "2025-06-20", revoked="2025-06-21")]
    )
    assert _adoptions(scores.unit("危化科").lines) == []


def test_the_same_channel_recorded_twice_counts_once() -> None:
    """The bulletin was imported twice: the second record is listed at 0 points with the reason."""
    scores = month(
        "2025-06",
        subs=SUBS,
        adoptions=[adopt(1, 1, "省级", "2025-06-20"), adopt(2, 1, "省级", "2025-06-21")],
    )
    lines = [x for x in scores.unit("危化科").lines if x.rule == "adoption:省级"]
    assert [x.points for x in lines] == [D("1.5"), D("1.5"), D(0)]
    assert lines[-1].note.endswith("同一渠道重复登记，不重复计分")


def test_a_channel_the_profile_does_not_know_scores_nothing_but_is_shown() -> None:
    """An adoption recorded under an old channel name stays visible, at 0."""
    scores = month("2025-06", subs=SUBS, adoptions=[adopt(1, 1, "省网站", "2025-06-20")])
    (line,) = [x for x in scores.unit("危化科").lines if x.rule == "adoption:省网站"]
    assert (line.points, line.person) == (D(0), None)
    assert "该渠道不在计分规则中，不计分" in line.note


def test_an_adoption_of_a_rejected_draft_is_left_out_and_logged() -> None:
    """Only accepted drafts score; the operator hears of the odd record."""
    subs = [draft(1, "危化科", "2025-06-12", W, status="rejected")]
    scores = month(
        "2025-06", subs=subs, adoptions=[adopt(5, 1, "省级", "2025-06-20"), adopt(6, 9, "省级", "2025-06-20")]
    )
    assert _adoptions(scores.unit("危化科").lines) == []
    assert scores.warnings == (
        "adoption 5: submission 1 is rejected; not scored",
        "adoption 6: submission 9 was not handed in; not scored",
    )


def test_the_example_takes_the_highest_channel_across_months() -> None:
    """`max`: 省厅网站 in June (8), 《要情》 in August (40 by then) adds 32, WeChat in August adds nothing."""
    adoptions = [
        adopt(1, 1, "省网站", "2025-06-20"),
        adopt(2, 1, "国家要情", "2025-08-05"),
        adopt(3, 1, "微信公众号", "2025-08-06"),
    ]
    june = month("2025-06", subs=SUBS, adoptions=adoptions, profile=EXAMPLE).unit("危化科")
    august = month("2025-08", subs=SUBS, adoptions=adoptions, profile=EXAMPLE).unit("危化科")
    assert _adoptions(june.lines) == [
        ("adoption:省网站", D(4), "王强", 1),
        ("adoption:省网站", D(4), "李明", 1),
    ]
    assert _adoptions(august.lines) == [
        ("adoption:国家要情", D(16), "王强", 2),
        ("adoption:国家要情", D(16), "李明", 2),
        ("adoption:微信公众号", D(0), None, 3),
    ]
    first, *_, last = [x for x in august.lines if x.rule.startswith("adoption")]
    assert "按最高一项计分，此前已按省厅网站计8分，本次补计32分" in first.note
    assert last.note.endswith("按最高一项计分，已按应急管理部《要情》计40分，本次不另计分")


def test_max_and_stack_differ_only_in_how_channels_combine() -> None:
    """The same three adoptions under `stack` add up to 8 + 30 + 8; under `max` they give 30."""
    adoptions = [
        adopt(1, 1, "省网站", "2025-06-20"),
        adopt(2, 1, "国家要情", "2025-06-21"),
        adopt(3, 1, "微信公众号", "2025-06-22"),
    ]
    original = _example_text()
    text = original.replace('combine = "max"', 'combine = "stack"')
    assert text != original
    stacked = parse_profile(text, source="stacked")

    def total(profile: Profile) -> Decimal:
        scores = month("2025-06", subs=SUBS, adoptions=adoptions, profile=profile)
        return sum(
            (x.points for x in scores.unit("危化科").lines if x.rule.startswith("adoption")), Decimal(0)
        )

    assert (total(EXAMPLE), total(stacked)) == (30, 46)


def test_revoking_the_highest_adoption_restores_the_lower_one() -> None:
    """`max`: once 《要情》 is revoked, the WeChat adoption made after it counts in full again."""
    adoptions = [
        adopt(2, 1, "国家要情", "2025-06-20", revoked="2025-06-25"),
        adopt(3, 1, "微信公众号", "2025-06-22"),
    ]
    scores = month("2025-06", subs=SUBS, adoptions=adoptions, profile=EXAMPLE)
    assert sum(x.points for x in scores.unit("危化科").lines if x.rule.startswith("adoption")) == 8


def test_panjin_has_one_channel_per_level_except_municipal() -> None:
    """The CLI's --level maps onto the profile: 省级, 国家级; municipal needs --channel."""
    rules = PANJIN.versions[0].default
    assert {c.level for c in rules.channels} == {"municipal", "provincial", "national"}


def _example_text() -> str:
    from importlib.resources import files

    return (files("scoring") / "profiles" / "example-province.toml").read_text(encoding="utf-8")
