"""The notice's workbook: the same table as the .docx, every scored line, and a snapshot a correction reads."""

from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from outbox.notice import Adopted
from outbox.notice_xlsx import changes, notice_xlsx, read_snapshot, snapshot
from scoring.results import Line
from tests.libreoffice import calc_sheets, expected_sheets
from tests.outbox.notice_cases import ADOPTED, UNIT_NAMES, june_notice, june_records
from tests.scoring.builders import at


def test_the_table_sheet_matches_the_notice() -> None:
    """通报表: a title row, the headers with points, every unit with exact figures, a total."""
    notice = june_notice()
    wb = load_workbook(io.BytesIO(notice_xlsx(notice)))
    assert wb.sheetnames == ["通报表", "得分明细", "采用稿件", "说明"]
    rows = list(wb["通报表"].iter_rows(values_only=True))
    assert rows[0][0] == "2025年6月份政务信息报送及采用情况统计表"
    assert rows[1][:4] == ("序号", "单位", "报送篇数（0.3分/篇）", "市委盘锦信息（1分/篇）")
    assert [r[1] for r in rows[2:-1]] == list(UNIT_NAMES)
    assert rows[2] == (1, "危化科", 5, 0, 1, 1, 0, 3, 8.1, 10.3)
    assert rows[4] == (3, "盘山县应急管理局", 0, 0, 0, 0, 0, 0, 0, 0)
    assert rows[-1][0] == "合计"
    assert rows[-1][2:7] == (10, 0, 1, 1, 0)


def test_the_details_sheet_explains_every_point() -> None:
    """得分明细 holds every line of every unit's score, as `scores --json` explains them: a unit's
    lines add up to its score in the table."""
    notice = june_notice()
    wb = load_workbook(io.BytesIO(notice_xlsx(notice)))
    details = list(wb["得分明细"].iter_rows(values_only=True))
    assert details[0] == ("单位", "规则", "项目", "稿件编号", "采用编号", "撰稿人", "分值", "说明")
    assert len(details) - 1 == len(notice.details)
    totals: dict[str, Decimal] = {}
    for unit, _rule, _name, _sub, _adoption, _person, points, _note in details[1:]:
        totals[unit] = totals.get(unit, Decimal(0)) + Decimal(str(points))
    assert totals["危化科"] == Decimal("8.1")
    province = next(r for r in details if r[1] == "adoption:省级")
    assert province[2:6] == ("省级采用", 103, 2, "李明")
    assert ADOPTED in province[7]
    week = next(r for r in details if r[0] == "盘山县应急管理局" and r[1] == "quota:week")
    assert week[6] == 0
    assert "少报1篇" in week[7]


def test_a_sent_workbook_reads_back_as_what_it_announced() -> None:
    """A correction compares against the notice as sent, read back from its attached workbook."""
    notice = june_notice()
    assert read_snapshot(notice_xlsx(notice)) == snapshot(notice)


def test_changes_name_what_a_revoked_adoption_moved() -> None:
    """The province withdraws draft 103: 危化科's province count, score and cumulative change, and
    the adoption is listed as withdrawn; units that did not change are not mentioned."""
    before = read_snapshot(notice_xlsx(june_notice()))
    _, adoptions = june_records()
    after = june_notice(adoptions=[adoptions[0], replace(adoptions[1], revoked_at=at("2025-07-07"))])
    assert changes(before, after) == (
        "危化科：省级采用由1篇更正为0篇，本月得分由8.1分更正为5.1分，累计得分由10.3分更正为7.3分",
        f"撤销采用：《{ADOPTED}》（危化科，省级）",
    )
    assert changes(before, june_notice()) == ()


def test_every_cell_keeps_the_grid_and_its_format() -> None:
    """As the office opens it: a bold grey header row, every cell of the grid boxed and centred,
    points as 0.00##, notes left-aligned, the 合计 row bold with its merged 单位 cell boxed too."""
    notice = june_notice()
    wb = load_workbook(io.BytesIO(notice_xlsx(notice)))
    table, details = wb["通报表"], wb["得分明细"]
    assert table["A1"].font.size == 14
    assert table["A1"].font.b
    assert table["A1"].alignment.horizontal == "center"
    assert table["A1"].border.left.style is None
    assert [str(r) for r in table.merged_cells.ranges] == ["A1:J1", "A7:B7"]
    for row in table.iter_rows(min_row=2, max_row=7, max_col=10):
        for cell in row:
            if cell.coordinate == "B7":  # merged into A7: read back with the range's outer edges
                continue
            assert cell.border.left.style == cell.border.bottom.style == "thin", cell.coordinate
            assert (cell.alignment.horizontal, cell.alignment.wrap_text) == ("center", True), cell.coordinate
    assert {c.font.name for c in table[2]} == {"黑体"}
    assert {(c.fill.fill_type, c.fill.fgColor.rgb) for c in table[2]} == {("solid", "FFF2F2F2")}
    assert {c.font.b for c in table[7] if c.coordinate != "B7"} == {True}
    assert table["B7"].border.top.style == table["B7"].border.bottom.style == "thin"
    assert [c.number_format for c in table[3]][-4:] == ["General", "0.00##", "0.00##", "0.00##"]
    assert table["C3"].font.name == "Calibri"
    assert table.freeze_panes == "C3"
    assert table.column_dimensions["B"].width == 22
    assert details["G2"].number_format == "0.00##"
    assert details["H2"].alignment.horizontal == "left"
    assert details["D2"].border.right.style == "thin"
    assert details.auto_filter.ref == f"A1:H{len(notice.details) + 1}"
    assert details.freeze_panes == "B2"
    assert {c.font.b for c in wb["采用稿件"][1]} == {True}
    assert wb["说明"]["B1"].value == "2025-06"


def test_the_details_and_adopted_sheets_keep_their_styles() -> None:
    """得分明细 as the office filters it: a bold 黑体 header on grey, every line boxed in thin black,
    each line's points shown as 0.00##, its columns as wide as before (说明 the widest)."""
    notice = june_notice()
    wb = load_workbook(io.BytesIO(notice_xlsx(notice)))
    details, adopted = wb["得分明细"], wb["采用稿件"]
    for cell in details[1]:
        assert (cell.font.name, cell.font.b) == ("黑体", True), cell.coordinate
        assert (cell.fill.fill_type, cell.fill.fgColor.rgb) == ("solid", "FFF2F2F2"), cell.coordinate
        sides = (cell.border.left, cell.border.right, cell.border.top, cell.border.bottom)
        assert {(s.style, s.color.rgb) for s in sides} == {("thin", "FF000000")}, cell.coordinate
    points = [row[6] for row in details.iter_rows(min_row=2)]
    assert len(points) == len(notice.details)
    assert {c.number_format for c in points} == {"0.00##"}
    assert {c.border.top.style for row in details.iter_rows(min_row=2) for c in row} == {"thin"}
    widths = {d.min: d.width for d in details.column_dimensions.values()}
    assert widths[1] == pytest.approx(22, abs=1)
    assert widths[8] == pytest.approx(90, abs=1)
    assert adopted["C2"].alignment.wrap_text
    assert adopted["C2"].border.bottom.style == "thin"
    assert adopted.column_dimensions["C"].width == pytest.approx(60, abs=1)
    assert wb["说明"].column_dimensions["B"].width == pytest.approx(60, abs=1)


def test_points_are_written_exactly_as_numbers() -> None:
    """A third of a co-written draft (0.3333) and an entry of −1.2345 read back as those numbers,
    not as text nor rounded to the 2 decimals shown; so does 危化科's cumulative 10.3."""
    notice = june_notice()
    shares = [
        ("危化科", Line("draft", Decimal("0.3333"), 102, None, "赵敏", "三人合写，分得三分之一")),
        ("宣教科", Line("entry:other", Decimal("-1.2345"), None, None, None, "办公室登记扣分")),
    ]
    notice = replace(notice, details=(*notice.details, *shares))
    wb = load_workbook(io.BytesIO(notice_xlsx(notice)))
    points = [r[6] for r in wb["得分明细"].iter_rows(min_row=2, values_only=True)]
    assert points == [float(line.points) for _, line in notice.details]
    assert points[-2:] == [0.3333, -1.2345]
    assert {type(p) for p in points} <= {int, float}
    table = {r[1]: r[-1] for r in wb["通报表"].iter_rows(min_row=3, values_only=True)}
    assert table["危化科"] == 10.3


def test_the_same_notice_renders_to_the_same_bytes() -> None:
    """Rendered twice (the mail's attachment and the --out file), the workbook is the same file:
    no clock in its properties or its zip entries."""
    assert notice_xlsx(june_notice()) == notice_xlsx(june_notice())
    with zipfile.ZipFile(io.BytesIO(notice_xlsx(june_notice()))) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_the_workbook_is_signed_by_the_office_on_the_issue_day() -> None:
    """File properties: written by the issuing office, titled as the notice, created (and last
    saved) at 09:00 Beijing time on the day it is issued, which the file stores in UTC: a
    spreadsheet program in Panjin shows 09:00, not 17:00."""
    notice = june_notice()
    props = load_workbook(io.BytesIO(notice_xlsx(notice))).properties
    assert props.creator == "盘锦市应急管理局办公室"
    assert props.title == "关于2025年6月份政务信息报送及采用情况的通报"
    assert props.created == props.modified == datetime(2025, 7, 1, 1, 0)
    with zipfile.ZipFile(io.BytesIO(notice_xlsx(notice))) as z:
        assert ">2025-07-01T01:00:00Z<" in z.read("docProps/core.xml").decode()


def test_a_title_that_looks_like_a_formula_or_a_link_stays_text() -> None:
    """A unit titles a draft "=HYPERLINK(…)" or starts it with a web address: the adopted drafts'
    sheet shows the title as written, neither a formula nor a link, and reads back the same."""
    notice = june_notice()
    channel = notice.adopted[0].channel
    odd = (
        Adopted('=HYPERLINK("http://x.cn","点此")', "危化科", channel),
        Adopted("http://www.pj.gov.cn 专题", "危化科", channel),
    )
    notice = replace(notice, adopted=(*notice.adopted, *odd))
    data = notice_xlsx(notice)
    sheet = load_workbook(io.BytesIO(data))["采用稿件"]
    cells = [row[2] for row in sheet.iter_rows(min_row=2)][-2:]
    assert [(c.value, c.data_type, c.hyperlink) for c in cells] == [(a.title, "s", None) for a in odd]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet3.xml").decode()
    assert read_snapshot(data) == snapshot(notice)


@pytest.mark.libreoffice
def test_calc_opens_the_notice_workbook_with_every_value_as_written(tmp_path: Path) -> None:
    """The office opens the attachment in a spreadsheet program, not in openpyxl: LibreOffice Calc
    loads all four sheets with every cell as written, the Chinese text intact, points as numbers,
    and a draft titled like a formula shown as its title, not computed."""
    notice = june_notice()
    channel = notice.adopted[0].channel
    formula = Adopted('=HYPERLINK("http://x.cn","点此")', "危化科", channel)
    data = notice_xlsx(replace(notice, adopted=(*notice.adopted, formula)))
    seen = calc_sheets(data, tmp_path)
    assert list(seen) == ["通报表", "得分明细", "采用稿件", "说明"]
    assert seen == expected_sheets(data)
    assert seen["通报表"][2] == ["1", "危化科", "5", "0", "1", "1", "0", "3", "8.1", "10.3"]
    assert seen["采用稿件"][-1][2] == formula.title
