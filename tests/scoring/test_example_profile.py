"""The second profile at work: one county bureau and one department through June and July 2025."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from tests.scoring.builders import EXAMPLE, D, adopt, draft, entry, month

P, Q = ("李娜", "盘山县应急管理局"), ("王强", "危化科")


def _ledger() -> dict[str, Any]:
    county = [draft(i, "盘山县应急管理局", f"2025-06-{2 + i:02d}", P) for i in range(12)]  # 2–13 June
    county += [
        draft(100 + i, "盘山县应急管理局", f"2025-07-{1 + 2 * i:02d}", P) for i in range(14)
    ]  # 1–27 July
    dept = [draft(200, "危化科", "2025-06-10", Q), draft(201, "危化科", "2025-07-10", Q)]
    adoptions = [
        adopt(1, 0, "省网站", "2025-06-20"),
        adopt(2, 0, "国家要情", "2025-07-02"),  # 要情 is worth 40 from July
        adopt(3, 200, "微信公众号", "2025-06-25"),
        adopt(4, 200, "市网站", "2025-06-26"),
    ]
    entries = [
        entry(1, "column_material", "2025-06-30", unit="危化科"),
        entry(2, "column_material", "2025-07-31", unit="危化科"),
    ]
    return {"subs": county + dept, "adoptions": adoptions, "entries": entries}


def test_june_for_the_county_bureau() -> None:
    """12 drafts (cap 5: 10 score), 省厅网站 8; 6 above the quota of 6 (+1.2); W25, W26 missed (−0.5 each)."""
    unit = month("2025-06", profile=EXAMPLE, **_ledger()).unit("盘山县应急管理局")
    by_rule: dict[str, Decimal] = defaultdict(Decimal)
    for x in unit.lines:
        by_rule[x.rule] += x.points
    assert by_rule == {"draft": D(5), "adoption:省网站": D(8), "quota:week": D(-1), "quota:month": D("1.2")}
    assert unit.score == D("13.2")
    assert unit.submitted == 12


def test_july_for_the_county_bureau_under_the_revised_rules() -> None:
    """July: cap 6 (12 of 14 drafts score), 要情 at 40 less June's 8; 8 above quota: +1.6; W31 missed: −0.5."""
    scores = month("2025-07", profile=EXAMPLE, **_ledger())
    unit = scores.unit("盘山县应急管理局")
    draft_points = [x.points for x in unit.lines if x.rule == "draft"]
    assert draft_points == [D("0.5")] * 12 + [D(0), D(0)]
    (yaoqing,) = [x for x in unit.lines if x.rule == "adoption:国家要情"]
    assert (yaoqing.points, yaoqing.submission_id) == (D(32), 0)
    assert "按最高一项计分，此前已按省厅网站计8分，本次补计32分" in yaoqing.note
    assert [x.points for x in unit.lines if x.rule == "quota:month"] == [D("1.6")]
    assert unit.score == 6 + 32 + D("1.6") - D("0.5")
    june = month("2025-06", profile=EXAMPLE, **_ledger()).unit("盘山县应急管理局")
    assert unit.cumulative == june.cumulative + unit.score
    assert scores.profile == "example-province 2025-07-01"


def test_june_for_the_department() -> None:
    """One draft (0.5), WeChat 8 then the city site 1 (max: 0), 栏目素材 2; 1 of 4 drafts: −3; no weekly quota."""
    unit = month("2025-06", profile=EXAMPLE, **_ledger()).unit("危化科")
    assert [(x.rule, x.points) for x in unit.lines] == [
        ("draft", D("0.5")),
        ("adoption:微信公众号", D(8)),
        ("adoption:市网站", D(0)),
        ("entry:column_material", D(2)),
        ("quota:month", D(-3)),
    ]
    assert unit.score == D("7.5")
