"""`xinbao ledger import`: the office's spreadsheet of months before the system, so cumulative is right."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy.engine import Engine
from sqlmodel import select

from daemon.db import session
from daemon.models_scoring import History
from tests.daemon.test_scores_cli import UNIT_NAMES, Bureau, june_ledger, make_bureau

HEADER = [
    "序号",
    "单位",
    "月份",
    "报送篇数",
    "市委《盘锦信息》",
    "市政府政务信息",
    "省级",
    "国家级",
    "得分",
    "累计得分",
]


@pytest.fixture
def bureau(engine: Engine, db_url: str, tmp_path: Path) -> Bureau:
    return make_bureau(engine, db_url, tmp_path)


def workbook(path: Path, rows: list[list[Any]]) -> Path:
    """The office's sheet as Excel saves it: a title row, the header, one row per unit and month."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["2025年信息报送计分汇总（系统启用前）"])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


SPRING = [
    [1, "危化科", datetime(2025, 4, 1), 3, 0, 0, 0, 0, 0.9, 0.9],
    [2, "危化科", datetime(2025, 5, 1), 4, 0, 1, 0, 0, 2.2, 3.1],
    [3, "盘山县应急局", "2025年5月", 5, 0, 0, 1, 0, 4.5, 4.5],
]


def _decimal(value: float) -> Decimal:
    return Decimal(str(value))


def test_imported_months_make_cumulative_right_from_day_one(bureau: Bureau, tmp_path: Path) -> None:
    """The system starts in June; April and May come from the office's sheet, and June's
    cumulative score is theirs plus June's own."""
    june_ledger(bureau)
    path = workbook(tmp_path / "历史得分.xlsx", SPRING)
    out = bureau.ok("ledger", "import", str(path))
    assert "新增 3 条，更新 0 条（2025-04、2025-05）" in out
    assert "以下列未导入：序号、累计得分" in out
    june_out = bureau.json("scores", "--month", "2025-06")
    assert [u["unit"] for u in june_out["units"]] == UNIT_NAMES
    hazchem, county, enforcement = june_out["units"]
    assert _decimal(hazchem["cumulative"]) == Decimal("0.9") + Decimal("2.2") + _decimal(hazchem["score"])
    assert _decimal(county["cumulative"]) == Decimal("4.5")
    assert _decimal(enforcement["cumulative"]) == _decimal(enforcement["score"])
    may = bureau.json("scores", "--month", "2025-05")["units"]
    assert may[0]["lines"] == [
        {
            "rule": "history",
            "points": 2.2,
            "submission_id": None,
            "adoption_id": None,
            "person": None,
            "note": "2025年5月历史数据（导入）：报送4篇，采用：市政府政务信息1篇，得分2.2分",
        }
    ]
    assert may[0]["submitted"] == 4
    assert may[1]["lines"][0]["note"].endswith("采用：省级1篇，得分4.5分")
    year = bureau.json("scores", "--year", "2025")["units"][0]
    assert "2025年4月得分0.9分（历史数据）" in [line["note"] for line in year["lines"]]


def test_importing_again_replaces_the_months(bureau: Bureau, tmp_path: Path) -> None:
    """The office corrects May's score and imports the sheet again: one row per unit and month."""
    bureau.ok("ledger", "import", str(workbook(tmp_path / "v1.xlsx", SPRING)))
    corrected = [[*row[:8], 2.5, 3.4] if row[2] == datetime(2025, 5, 1) else row for row in SPRING]
    out = bureau.ok("ledger", "import", str(workbook(tmp_path / "v2.xlsx", corrected)))
    assert "新增 0 条，更新 3 条" in out
    with session(bureau.engine, readonly=True) as s:
        rows = sorted((h.month.isoformat(), h.score) for h in s.exec(select(History)))
    assert rows == [
        ("2025-04-01", Decimal("0.9000")),
        ("2025-05-01", Decimal("2.5000")),
        ("2025-05-01", Decimal("4.5000")),
    ]
    hazchem = bureau.json("scores", "--month", "2025-05")["units"][0]
    assert _decimal(hazchem["cumulative"]) == Decimal("3.4")


def test_a_sheet_with_bad_rows_imports_nothing(bureau: Bureau, tmp_path: Path) -> None:
    """An unknown unit and an unreadable month: exit 1, every bad row named, nothing imported."""
    rows = [
        *SPRING,
        [4, "安监局", "2025-05", 2, 0, 0, 0, 0, 0.6, 0.6],
        [5, "综合行政执法队", "五月", 2, 0, 0, 0, 0, 0.6, 0.6],
        [6, "综合行政执法队", "2025-05", 2, 0, "一", 0, 0, "高", 0.6],
    ]
    result = bureau.run("ledger", "import", str(workbook(tmp_path / "bad.xlsx", rows)))
    assert result.exit_code == 1
    assert "表格有误，未导入任何数据" in result.stderr
    assert "第6行：单位“安监局”不在配置中" in result.stderr
    assert "第7行：月份“五月”无法识别" in result.stderr
    assert "第8行：得分“高”不是数字；报送篇数和采用篇数应为非负整数" in result.stderr
    with session(bureau.engine, readonly=True) as s:
        assert s.exec(select(History)).all() == []


def test_a_csv_from_excel_in_gb18030(bureau: Bureau, tmp_path: Path) -> None:
    """A CSV saved by Chinese Excel (GB18030), channel columns headed by their labels."""
    path = tmp_path / "历史.csv"
    path.write_bytes(
        "单位,月份,报送,市政府《政务信息》采用,省级采用,得分\n危化科,2025-05,4,1,1,5.2\n".encode("gb18030")
    )
    assert "新增 1 条" in bureau.ok("ledger", "import", str(path))
    with session(bureau.engine, readonly=True) as s:
        row = s.exec(select(History)).one()
    assert row.adoptions == {"市政府政务信息": 1, "省级": 1}
    assert (row.submitted, row.score) == (4, Decimal("5.2000"))
    missing = bureau.run("ledger", "import", str(tmp_path / "none.xlsx"))
    assert missing.exit_code == 1
    assert "找不到文件" in missing.stderr
