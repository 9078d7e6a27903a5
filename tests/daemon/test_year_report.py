"""`xinbao report year`: the figures of an annual report, printed and exported to .xlsx."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from daemon.year_report import YearFigures, export_xlsx
from tests.daemon.test_scores_cli import make_bureau
from tests.libreoffice import calc_sheets, expected_sheets

CST = ZoneInfo("Asia/Shanghai")


def test_the_year_in_figures_counts_drafts_columns_adoptions_and_ranks(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    """危化科: two drafts (one a 企业安全承诺 website item), one adopted by the city; 盘山县: one WeChat item."""
    b = make_bureau(engine, db_url, tmp_path)
    first = b.draft("危化科", "危化科专项检查", datetime(2025, 6, 3, 9, tzinfo=CST), [("王强", "危化科")])
    b.draft("危化科", "企业安全承诺公告", datetime(2025, 6, 4, 9, tzinfo=CST), [("王强", "危化科")],
            category="企业安全承诺")  # fmt: skip
    b.draft(
        "盘山县应急管理局", "盘山县应急专栏", datetime(2025, 6, 5, 9, tzinfo=CST), category="县区应急专栏"
    )
    b.ok("adopt", str(first), "--channel", "市政府政务信息", "--date", "2025-06-20")
    out = tmp_path / "2025.xlsx"
    text = b.ok("report", "year", "2025", "--out", str(out))
    assert "先进集体" in text
    assert "1. 危化科 -0.4分" in text  # 1.6 less the two missing annual articles (−2)
    book = load_workbook(out)
    assert book.sheetnames == ["年度情况", "先进集体", "先进个人"]
    sheet = book["年度情况"]
    assert {c.font.b for c in sheet[1]} == {True}
    rows = {r[0]: r for r in sheet.iter_rows(values_only=True)}
    header = rows["单位"]
    wh = dict(zip(header, rows["危化科"], strict=True))
    assert (wh["收到稿件"], wh["局网站栏目稿件"], wh["市级采用"], wh["采用合计"]) == (2, 1, 1, 1)
    total = dict(zip(header, rows["合计"], strict=True))
    assert (total["收到稿件"], total["微信公众号栏目稿件"]) == (3, 1)
    assert {c.font.b for c in sheet[2]} == {False}
    units = list(book["先进集体"].iter_rows(values_only=True))
    assert units[:2] == [("名次", "单位", "全年得分"), (1, "危化科", -0.4)]
    people = list(book["先进个人"].iter_rows(values_only=True))
    assert people[1] == (1, "王强", "危化科", 1.6)


@pytest.mark.libreoffice
def test_calc_opens_the_year_workbook_with_figures_as_numbers(tmp_path: Path) -> None:
    """The office pastes the annual ranking into its report from Calc or WPS: the three sheets load
    with every cell as written, scores as numbers (a negative one too) and names as text."""
    figures = YearFigures(
        year=2025,
        columns=("收到稿件", "采用合计", "全年得分"),
        rows=(
            ("危化科", "12", "3", "7.35"),
            ("盘山县应急管理局", "0", "0", "-2"),
            ("合计", "12", "3", "5.35"),
        ),
        units_ranked=(("危化科", "7.35"), ("盘山县应急管理局", "-2")),
        people_ranked=(("王强", "危化科", "4.6"), ("李明", "危化科", "0.15")),
    )
    out = tmp_path / "2025.xlsx"
    export_xlsx(figures, out)
    seen = calc_sheets(out.read_bytes(), tmp_path)
    assert list(seen) == ["年度情况", "先进集体", "先进个人"]
    assert seen == expected_sheets(out.read_bytes())
    assert seen["年度情况"][2] == ["盘山县应急管理局", "0", "0", "-2"]
    assert seen["先进个人"][2] == ["2", "李明", "危化科", "0.15"]
