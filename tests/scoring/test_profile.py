"""Rule profiles: the packaged Panjin and example profiles, effective dates, groups, and precise errors."""

from __future__ import annotations

from datetime import date

import pytest

from scoring.periods import parse_month
from scoring.profile import ProfileError, load_packaged_profile
from scoring.profile_toml import parse_profile
from tests.scoring.builders import EXAMPLE, PANJIN, D


def test_the_panjin_profile_carries_the_regulations_figures() -> None:
    """三(一): 0.3 a draft; 市委/市政府 1, province 3, nation 5; ≥1 a week, ≥4 a month; split among authors."""
    rules = PANJIN.rules(parse_month("2025-06"), "department")
    assert rules.draft.points == D("0.3")
    assert rules.draft.cap is None
    assert [(c.name, c.level, c.points) for c in rules.channels] == [
        ("市委盘锦信息", "municipal", 1),
        ("市政府政务信息", "municipal", 1),
        ("省级", "provincial", 3),
        ("国家级", "national", 5),
    ]
    assert rules.combine == "stack"
    assert rules.split_authors
    assert (rules.week.required, rules.week.per_missing) == (1, 0)
    assert (rules.month.required, rules.month.per_missing) == (4, 0)
    research = rules.article("research")
    assert research is not None
    assert (research.tag, research.min_chars, research.points, research.adopted_points) == (
        "调研",
        2000,
        1,
        2,
    )
    assert (research.adopted_by, research.required_per_year, research.per_missing) == (
        ("市政府政务信息",),
        1,
        -1,
    )
    assert PANJIN.versions[0].effective_from == date(2025, 5, 9)


def test_the_regulations_first_month_is_scored_by_it() -> None:
    """The regulation dates from 9 May 2025: May is its first month; April had no rules in force."""
    assert PANJIN.version_for(parse_month("2025-05")) is PANJIN.versions[0]
    assert not PANJIN.precedes(parse_month("2025-05"))
    assert PANJIN.precedes(parse_month("2025-04"))


def test_a_mid_year_change_applies_from_its_date_and_past_months_keep_their_rules() -> None:
    """The example profile raises 要情 to 40 and the draft cap to 6 from 1 July; June stays at 30 and 5."""
    june, july = (EXAMPLE.rules(parse_month(m), "department") for m in ("2025-06", "2025-07"))
    assert [c.points for c in june.channels if c.name == "国家要情"] == [30]
    assert [c.points for c in july.channels if c.name == "国家要情"] == [40]
    assert (june.draft.cap, july.draft.cap) == (5, 6)
    assert july.channel("省网站") == june.channel("省网站")


def test_group_rules_override_the_version_and_survive_its_changes() -> None:
    """County bureaus have a weekly quota and 6 a month, in July too; departments keep the defaults."""
    for label in ("2025-06", "2025-07"):
        county = EXAMPLE.rules(parse_month(label), "county")
        department = EXAMPLE.rules(parse_month(label), "department")
        assert (county.week.required, county.week.per_missing, county.month.required) == (1, D("-0.5"), 6)
        assert county.month.per_extra == D("0.2")
        assert (department.week.required, department.month.required) == (0, 4)
    assert EXAMPLE.rules(parse_month("2025-07"), "county").draft.cap == 6


def test_a_group_without_overrides_gets_the_default_rules() -> None:
    """A unit group the profile does not mention (e.g. a service centre) is scored like the default."""
    version = EXAMPLE.version_for(parse_month("2025-06"))
    assert version.rules("centre") is version.default


def test_adopt_by_level_resolves_one_channel_or_asks_for_a_name() -> None:
    """`adopt --level provincial` is 省级; `--level municipal` is ambiguous in Panjin (two channels)."""
    rules = PANJIN.rules(parse_month("2025-06"), "department")
    assert rules.resolve_channel(level="provincial").name == "省级"
    assert rules.resolve_channel(channel="市委盘锦信息").points == 1
    with pytest.raises(ProfileError, match="市委盘锦信息、市政府政务信息，请用 --channel 指定"):
        rules.resolve_channel(level="municipal")
    with pytest.raises(ProfileError, match="没有级别为“county”"):
        rules.resolve_channel(level="county")
    with pytest.raises(ProfileError, match="没有采用渠道“省网站”"):
        rules.resolve_channel(channel="省网站")


def test_unknown_packaged_profile_names_the_available_ones() -> None:
    """A typo in config's profile name lists what ships."""
    with pytest.raises(ProfileError, match="panjin-2025、example-province"):
        load_packaged_profile("panjin")


MINIMAL = """
name = "t"
[[versions]]
effective_from = 2025-01-01
"""


def test_a_minimal_profile_scores_nothing() -> None:
    """Every section is optional: no points, no channels, no quotas."""
    rules = parse_profile(MINIMAL, source="t").versions[0].default
    assert rules.draft.points == 0
    assert rules.channels == ()
    assert rules.week.required == rules.month.required == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param("[versions.draft]\npoint = 0.3", "versions[0].draft.point 无法识别", id="typo in a key"),
        pytest.param(
            "[versions.draft]\npoints = '0.3'", "versions[0].draft.points 应为数字", id="quoted number"
        ),
        pytest.param("[versions.draft]\npoints = 0.33333", "应为最多4位小数", id="five decimals"),
        pytest.param("[versions.draft]\ncap = -5", "versions[0].draft.cap 是上限", id="negative cap"),
        pytest.param("combine = 'sum'", "versions[0].combine 应为 stack / max 之一", id="bad combine"),
        pytest.param("split_authors = 1", "versions[0].split_authors 应为 true 或 false", id="bool as int"),
        pytest.param(
            '[versions.channels."省级"]\npoints = 3',
            "versions[0].channels.省级.level 缺失",
            id="channel without level",
        ),
        pytest.param(
            "[versions.articles.research]\ntag = '调研'\npoints = 1\nadopted_by = ['市政府']",
            "adopted_by 提到的采用渠道“市政府”未在 channels 中定义",
            id="article adopted by an unknown channel",
        ),
        pytest.param("[versions.items.late]\ntype = 'penalty'", "items.late.type 应为", id="bad item type"),
        pytest.param(
            "[versions.quota.week]\nrequired = -1", "quota.week.required 应为非负整数", id="negative quota"
        ),
        pytest.param(
            "[versions.groups.county.quota.month]\nrequird = 6",
            "versions[0].groups.county.quota.month.requird 无法识别",
            id="typo inside a group",
        ),
    ],
)
def test_a_bad_profile_is_refused_with_the_key_named(extra: str, message: str) -> None:
    """Errors name the profile and the dotted key, in Chinese, so the operator can fix the file."""
    with pytest.raises(ProfileError, match="计分规则 t：") as caught:
        parse_profile(MINIMAL + extra, source="t")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("name = 't'", "至少需要一个 [[versions]]", id="no versions"),
        pytest.param("name = 't'\n[[versions]]\nnote = 'x'", "versions[0].effective_from 缺失", id="no date"),
        pytest.param(
            "name = 't'\n[[versions]]\neffective_from = '2025-01-01'",
            "应为日期（如 2025-05-09，不加引号）",
            id="quoted date",
        ),
        pytest.param(
            MINIMAL + "[[versions]]\neffective_from = 2024-07-01", "须按日期递增", id="versions out of order"
        ),
        pytest.param("name = 't'\n[[versions]\n", "不是有效的 TOML", id="broken toml"),
    ],
)
def test_broken_profiles_are_refused(text: str, message: str) -> None:
    """The file as a whole: versions present, dated, in order; valid TOML."""
    with pytest.raises(ProfileError, match="计分规则 t") as caught:
        parse_profile(text, source="t")
    assert message in str(caught.value)


def test_a_later_version_inherits_what_it_does_not_state() -> None:
    """Only the changed keys are written in a later version; the note and date are its own."""
    profile = parse_profile(
        MINIMAL
        + "note = 'first'\n[versions.draft]\npoints = 0.3\ncap = 5\n"
        + "[[versions]]\neffective_from = 2025-07-01\n[versions.draft]\ncap = 6\n",
        source="t",
    )
    first, second = profile.versions
    assert (second.default.draft.points, second.default.draft.cap) == (D("0.3"), 6)
    assert (first.note, second.note) == ("first", "")
