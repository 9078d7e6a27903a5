"""The 撰稿人 / 初审人 / 复审人 grammar, as publicists really type it at the end of a draft."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.signoff import parse_signoff, split_authors
from parsers.types import Author

A = Author


@pytest.mark.parametrize(
    ("text", "authors"),
    [
        pytest.param("王强", (A("王强"),), id="one name"),
        pytest.param("王强、李明", (A("王强"), A("李明")), id="enumeration comma"),
        pytest.param(
            "王强，李明,赵敏；陈静;刘洋", tuple(map(A, ["王强", "李明", "赵敏", "陈静", "刘洋"])), id="mixed"
        ),
        pytest.param("王强和李明", (A("王强"), A("李明")), id="he"),
        pytest.param("王强及李明", (A("王强"), A("李明")), id="ji"),
        pytest.param("王和平", (A("王和平"),), id="he inside a name is no separator"),
        pytest.param("王和平和李明", (A("王和平"), A("李明")), id="he inside and between"),
        pytest.param("王强 李明", (A("王强"), A("李明")), id="space"),
        pytest.param("王强\u3000李明", (A("王强"), A("李明")), id="ideographic space"),
        pytest.param("危化科 王强", (A("王强", "危化科"),), id="unit space name"),
        pytest.param("危化科王强", (A("王强", "危化科"),), id="unit glued to name"),
        pytest.param("危化科王强、李明", (A("王强", "危化科"), A("李明", "危化科")), id="unit carries"),
        pytest.param(
            "危化科 王强；执法支队 赵敏", (A("王强", "危化科"), A("赵敏", "执法支队")), id="two units"
        ),
        pytest.param(
            "危化科王强、李明；执法支队赵敏",
            (A("王强", "危化科"), A("李明", "危化科"), A("赵敏", "执法支队")),
            id="unit changes",
        ),
        pytest.param(
            "盘山县应急管理局（办公室）李娜",
            (A("李娜", "盘山县应急管理局（办公室）"),),
            id="unit with department in brackets",
        ),
        pytest.param(
            "盘山县应急管理局(办公室) 李娜、王五",
            (A("李娜", "盘山县应急管理局(办公室)"), A("王五", "盘山县应急管理局(办公室)")),
            id="ascii brackets, space",
        ),
        pytest.param(
            "盘山县应急管理局（办公室、综合科）李娜",
            (A("李娜", "盘山县应急管理局（办公室、综合科）"),),
            id="separator inside brackets",
        ),
        pytest.param(
            "应急管理局办公室 李娜", (A("李娜", "应急管理局办公室"),), id="unit not cut at its inner suffix"
        ),
        pytest.param("市消防救援支队李明", (A("李明", "市消防救援支队"),), id="zhidui"),
        pytest.param("市应急救援中心欧阳明辉", (A("欧阳明辉", "市应急救援中心"),), id="four character name"),
        pytest.param(
            "王强（危化科）、李明（执法支队）",
            (A("王强", "危化科"), A("李明", "执法支队")),
            id="unit after the name",
        ),
        pytest.param("危化科科长刘洋", (A("刘洋", "危化科"),), id="title between unit and name"),
        pytest.param("危化科刘洋科长", (A("刘洋", "危化科"),), id="title after the name"),
        pytest.param("刘洋（科长）", (A("刘洋"),), id="title in brackets is no unit"),
        pytest.param("王强同志", (A("王强"),), id="tongzhi"),
        pytest.param("王强等", (A("王强"),), id="deng"),
        pytest.param("王强。", (A("王强"),), id="trailing full stop"),
        pytest.param("王强 13800000000", (A("王强"),), id="phone number"),
        pytest.param("王强（电话：13800000000）", (A("王强"),), id="phone number in brackets"),
        pytest.param("XXX", (), id="placeholder"),
        pytest.param("ＸＸＸ", (), id="full-width placeholder"),
        pytest.param("XX单位(科室)XXX", (), id="the sample's own placeholder"),
        pytest.param("XX单位（科室）王强", (A("王强"),), id="placeholder unit"),
        pytest.param("王强、王强", (A("王强"),), id="same name twice"),
        pytest.param("", (), id="empty"),
        pytest.param("、，；", (), id="only separators"),
        pytest.param("王立科 、李娜", (A("王立科"), A("李娜")), id="a name ending like a unit stays a name"),
    ],
)
def test_split_authors(text: str, authors: tuple[Author, ...]) -> None:
    """Every way a publicist lists co-authors and their units comes out as the same records."""
    assert split_authors(text) == authors


@pytest.mark.parametrize(
    ("lines", "authors", "first", "second"),
    [
        pytest.param(
            ["撰稿人：危化科 王强", "初审人：刘洋    复审人：陈静"],
            (A("王强", "危化科"),),
            "刘洋",
            "陈静",
            id="the 附件3 layout",
        ),
        pytest.param(
            ["撰稿人:危化科王强", "初审人:刘洋", "复审人:陈静"],
            (A("王强", "危化科"),),
            "刘洋",
            "陈静",
            id="ascii",
        ),
        pytest.param(
            ["撰稿人：王强 初审：刘洋 复审：陈静"], (A("王强"),), "刘洋", "陈静", id="one line short labels"
        ),
        pytest.param(
            ["撰 稿 人：王强", "初　审　人：刘洋", "复 审 人 ： 陈静"],
            (A("王强"),),
            "刘洋",
            "陈静",
            id="spaces inside labels",
        ),
        pytest.param(
            ["\u3000\u3000撰稿人：\u3000王强", "初审人：\u00a0刘洋\u3000\u3000复审人：陈静\u00a0"],
            (A("王强"),),
            "刘洋",
            "陈静",
            id="indent, nbsp",
        ),
        pytest.param(["撰稿人王强", "初审人刘洋 复审人陈静"], (A("王强"),), "刘洋", "陈静", id="no colon"),
        pytest.param(
            ["撰稿人 王强", "初审 刘洋", "复审 陈静"], (A("王强"),), "刘洋", "陈静", id="space, no colon"
        ),
        pytest.param(
            ["撰稿人：王强 初审刘洋 复审陈静"], (A("王强"),), "刘洋", "陈静", id="glued after a proven label"
        ),
        pytest.param(["撰写人：王强"], (A("王强"),), None, None, id="zhuanxieren"),
        pytest.param(["撰稿：王强、李明"], (A("王强"), A("李明")), None, None, id="zhuangao"),
        pytest.param(
            ["（撰稿人：王强  初审人：刘洋  复审人：陈静）"], (A("王强"),), "刘洋", "陈静", id="in brackets"
        ),
        pytest.param(
            ["撰稿人：王强，初审：刘洋；复审：陈静"], (A("王强"),), "刘洋", "陈静", id="punctuation between"
        ),
        pytest.param(
            ["撰稿人：王强初审：刘洋复审：陈静"], (A("王强"),), "刘洋", "陈静", id="no space, colons"
        ),
        pytest.param(
            ["初审人：刘洋、张伟", "复审人：陈静"], (), "刘洋、张伟", "陈静", id="two first reviewers"
        ),
        pytest.param(["初审人：危化科 刘洋"], (), "刘洋", None, id="a reviewer's unit is dropped"),
        pytest.param(["复审人：陈静 终审人：张三"], (), None, "陈静", id="final review is the office's"),
        pytest.param(["撰稿人：王强 摄影：李明"], (A("王强"),), None, None, id="photographer"),
        pytest.param(
            ["撰稿人:XX单位(科室)XXX", "初审人:XXX    复审人:XXX"], (), None, None, id="the sample left as is"
        ),
        pytest.param(["撰稿人：", "初审人：", "复审人："], (), None, None, id="labels without values"),
        pytest.param(
            ["撰稿人：危化科 王强", "撰稿人：执法支队 赵敏"],
            (A("王强", "危化科"), A("赵敏", "执法支队")),
            None,
            None,
            id="two author lines",
        ),
    ],
)
def test_parse_signoff(
    lines: list[str], authors: tuple[Author, ...], first: str | None, second: str | None
) -> None:
    """Sign-off blocks as they appear in drafts: every line is consumed, fields come out right."""
    result = parse_signoff(lines)
    assert result.signoff.authors == authors
    assert result.signoff.first_reviewer == first
    assert result.signoff.second_reviewer == second
    assert result.consumed == frozenset(range(len(lines)))


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("初审人员要严格把关，确保信息真实准确。", id="staff of first review"),
        pytest.param("初审合格的企业共12家", id="short label glued to prose"),
        pytest.param("撰稿人王强认为，本次演练达到了预期目的，检验了应急预案的可操作性。", id="long prose"),
        pytest.param("经初审，该企业存在3处隐患。", id="label not at the start"),
        pytest.param("复审阶段", id="subheading"),
        pytest.param("摄影：李明", id="only a label that is not ours"),
        pytest.param("市应急局参加XXX企业突发事故应急处置演练", id="title"),
        pytest.param("", id="empty"),
    ],
)
def test_body_lines_are_not_signoff(line: str) -> None:
    """Body text that merely mentions review is left in the body."""
    result = parse_signoff(["标题", line])
    assert result.consumed == frozenset()
    assert result.signoff.authors == ()
    assert result.signoff.first_reviewer is None


def test_only_signoff_lines_are_consumed() -> None:
    """Among body paragraphs, exactly the sign-off lines are reported by index."""
    lines = [
        "为深入践行……",
        "撰稿人：危化科 王强",
        "6月19日……",
        "初审人：刘洋  复审人：陈静",
        "注：请压缩后发送",
    ]
    assert parse_signoff(lines).consumed == frozenset({1, 3})


_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = "强明敏娜静洋伟芳军磊婷丽华杰涛超勇艳秀英"
# Unit prefixes avoid the unit suffixes themselves, as real unit names mostly do.
_PREFIX = "危化安全监管执法应急救援综合规划盘山大洼双台兴隆宣传"

names = st.builds(
    lambda s, g: s + g, st.sampled_from(_SURNAMES), st.text(alphabet=_GIVEN, min_size=1, max_size=2)
)
units = st.builds(
    lambda p, s: p + s,
    st.text(alphabet=_PREFIX, min_size=2, max_size=5),
    st.sampled_from(["科", "局", "支队", "中心", "办公室", "站", "管理局（办公室）"]),
)


@st.composite
def author_lists(draw: st.DrawFn) -> tuple[str, tuple[Author, ...]]:
    """A 撰稿人 value written with random separators, and the authors it means."""
    people = draw(st.lists(names, min_size=1, max_size=6, unique=True))
    with_units = draw(st.booleans())
    if not with_units:
        sep = draw(st.sampled_from(["、", "，", ",", "；", " ", "\u3000", "和"]))
        return sep.join(people), tuple(A(n) for n in people)
    cuts = sorted(draw(st.sets(st.integers(1, len(people) - 1), max_size=2))) if len(people) > 1 else []
    groups = [people[a:b] for a, b in zip([0, *cuts], [*cuts, len(people)], strict=True)]
    texts: list[str] = []
    expected: list[Author] = []
    for group in groups:
        unit = draw(units)
        joiner = draw(st.sampled_from(["", " ", "\u3000"]))
        sep = draw(st.sampled_from(["、", "，", ",", " "]))
        texts.append(unit + joiner + sep.join(group))
        expected.extend(A(n, unit) for n in group)
    group_sep = draw(st.sampled_from(["；", ";", "，", " ", "\u3000\u3000"]))
    return group_sep.join(texts), tuple(expected)


@given(author_lists())
def test_formatted_authors_parse_back(case: tuple[str, tuple[Author, ...]]) -> None:
    """However the names and units are separated, the same authors come back, units carried."""
    text, expected = case
    assert split_authors(text) == expected


@given(
    author=st.sampled_from(["撰稿人", "撰 稿 人", "撰写人", "撰稿"]),
    first=st.sampled_from(["初审人", "初审", "初 审 人"]),
    second=st.sampled_from(["复审人", "复审"]),
    colon=st.sampled_from(["：", ":", " ：", "：\u3000", " "]),
    gap=st.sampled_from(["    ", "\u3000\u3000", " ", "，", "\t"]),
    one_line=st.booleans(),
    people=st.lists(names, min_size=3, max_size=3, unique=True),
)
def test_signoff_variants_parse_back(
    author: str, first: str, second: str, colon: str, gap: str, one_line: bool, people: list[str]
) -> None:
    """Any mix of label spellings, colons and gaps yields the same author and reviewers."""
    fields = [f"{author}{colon}{people[0]}", f"{first}{colon}{people[1]}", f"{second}{colon}{people[2]}"]
    lines = [gap.join(fields)] if one_line else [fields[0], gap.join(fields[1:])]
    result = parse_signoff(lines)
    assert result.signoff.authors == (A(people[0]),)
    assert (result.signoff.first_reviewer, result.signoff.second_reviewer) == (people[1], people[2])
    assert result.consumed == frozenset(range(len(lines)))


@given(st.lists(st.text(max_size=60), max_size=8))
def test_any_text_is_parsed_without_error(lines: list[str]) -> None:
    """Whatever a document holds, the grammar answers, and only with indexes of its own lines."""
    result = parse_signoff(lines)
    assert result.consumed <= frozenset(range(len(lines)))
    assert all(a.name for a in result.signoff.authors)
