"""Adoptions by spreadsheet (.csv, .xlsx) through `xinbao adopt import`, on both backends."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import select

from daemon.db import session
from daemon.models import Adoption
from tests.daemon.adoption_cases import CST, drafts, standing
from tests.daemon.test_scores_cli import Bureau, make_bureau


@pytest.fixture
def bureau(engine: Engine, db_url: str, tmp_path: Path) -> Bureau:
    return make_bureau(engine, db_url, tmp_path)


def test_import_csv_by_id_and_by_title(bureau: Bureau, tmp_path: Path) -> None:
    """The office keeps June's adoptions in a CSV from Excel (GB18030): ids, titles, an ambiguous row."""
    ids = drafts(bureau)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(
        [
            ["编号", "标题", "单位", "渠道", "采用日期"],
            [ids["inspection"], "", "", "市政府政务信息", "2025-06-20"],
            ["", "我市完成首批危化品企业安全风险评估工作", "", "省级", "2025/6/27"],
            ["", "盘山县开展防汛应急演练", "综合行政执法队", "市委盘锦信息", "2025年6月30日"],
            ["", "组织开展安全生产月宣传活动", "", "市委盘锦信息", ""],
            ["", "全市应急管理系统年中工作会议召开", "", "市委盘锦信息", ""],
            ["9999", "", "", "省级", ""],
        ]
    )
    path = tmp_path / "6月采用.csv"
    path.write_bytes(buffer.getvalue().encode("gb18030"))
    out = bureau.ok("adopt", "import", str(path), "--date", "2025-06-30")  # for rows without a date
    assert f"已登记：第2行：#{ids['inspection']} → 稿件 #{ids['inspection']}" in out
    assert f"已登记：第3行：我市完成首批危化品企业安全风险评估工作 → 稿件 #{ids['assessment']}" in out
    assert f"已登记：第4行：盘山县开展防汛应急演练 → 稿件 #{ids['drill_team']}" in out
    assert "待确认：第5行：组织开展安全生产月宣传活动 → 可能是" in out
    assert "未匹配：第6行：全市应急管理系统年中工作会议召开：没有找到标题相近的稿件" in out
    assert "未匹配：第7行：#9999：没有编号为 9999 的稿件" in out
    assert "新登记 3 条；已匹配 3 条，待确认 1 条，未匹配 2 条" in out
    assert standing(bureau.engine) == [
        (ids["inspection"], "市政府政务信息"),
        (ids["assessment"], "省级"),
        (ids["drill_team"], "市委盘锦信息"),
    ]
    with session(bureau.engine, readonly=True) as s:
        dates = [a.adopted_at.astimezone(CST).date().isoformat() for a in s.exec(select(Adoption))]
    assert dates == ["2025-06-20", "2025-06-27", "2025-06-30"]
    assert "新登记 0 条；已匹配 3 条" in bureau.ok("adopt", "import", str(path), "--date", "2025-06-30")
    hazchem = bureau.json("scores", "--month", "2025-06")["units"][0]
    assert {x["rule"] for x in hazchem["lines"] if x["rule"].startswith("adoption")} == {
        "adoption:市政府政务信息",
        "adoption:省级",
    }


def test_import_xlsx_with_levels_and_dates(bureau: Bureau, tmp_path: Path) -> None:
    """An .xlsx with a title row, Chinese levels and Excel dates; 市级 alone cannot pick a channel."""
    ids = drafts(bureau)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["2025年6月信息采用情况统计"])
    sheet.append(["序号", "稿件标题", "报送单位", "采用级别", "采用日期"])
    sheet.append([1, "危化科开展汛期危险化学品企业专项检查", "危化科", "省级", datetime(2025, 6, 25)])
    sheet.append([2, "盘山县开展防汛应急演练", "盘山县应急管理局", "国家级", datetime(2025, 6, 28)])
    sheet.append([3, "我市完成首批危化品企业安全风险评估", "", "市级", datetime(2025, 6, 28)])
    path = tmp_path / "采用统计.xlsx"
    book.save(path)
    out = bureau.ok("adopt", "import", str(path))
    assert "新登记 2 条；已匹配 2 条，待确认 0 条，未匹配 1 条" in out
    assert "级别“municipal”有多个采用渠道" in out
    assert standing(bureau.engine) == [(ids["inspection"], "省级"), (ids["drill_county"], "国家级")]
    county = bureau.json("scores", "--month", "2025-06")["units"][1]
    national = [x for x in county["lines"] if x["rule"] == "adoption:国家级"]
    assert [(x["points"], x["person"]) for x in national] == [(5, "李娜")]


def test_import_needs_an_id_or_title_column(bureau: Bureau, tmp_path: Path) -> None:
    """A sheet without 编号 or 标题 is refused with exit 1, in Chinese."""
    path = tmp_path / "wrong.csv"
    path.write_text("单位,得分\n危化科,1\n", encoding="utf-8")
    result = bureau.run("adopt", "import", str(path))
    assert result.exit_code == 1
    assert "表格中没有表头行" in result.stderr
    missing = bureau.run("adopt", "import", str(tmp_path / "none.xlsx"))
    assert missing.exit_code == 1
    assert "找不到文件" in missing.stderr
