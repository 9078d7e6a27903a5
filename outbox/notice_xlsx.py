"""The monthly notice as a workbook (.xlsx): the notice's table, every scored line, the adopted drafts.

Sheets: 通报表 (the table of the .docx), 得分明细 (every line of every unit's score, as
`scores --json` explains it), 采用稿件, and 说明 (month, issue date, rule profile). Amounts are
written exactly (at most 4 decimals) and shown with 2. `read_snapshot` reads a sent notice back,
so a correction can list what changed against what the units were told.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from openpyxl import Workbook, load_workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.styles.borders import DEFAULT_BORDER
from openpyxl.styles.cell_style import StyleArray
from openpyxl.styles.fills import DEFAULT_EMPTY_FILL
from openpyxl.styles.fonts import DEFAULT_FONT
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from outbox.notice import Notice
from scoring.engine import collector_paused
from scoring.results import format_points, points_json

TABLE, DETAILS, ADOPTED, ABOUT = "通报表", "得分明细", "采用稿件", "说明"
_THIN = Side(style="thin", color="000000")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD = Font(name="黑体", bold=True)
_FILL = PatternFill("solid", fgColor="F2F2F2")
_POINTS = "0.00##"
_SUMS = ("bonus", "score", "cumulative")
# Rule names of docs/scoring.md, as the office calls them.
_RULES = {
    "draft": "报送",
    "quota:week": "每周报送任务",
    "quota:month": "每月报送任务",
    "history": "历史数据",
}


def notice_xlsx(notice: Notice) -> bytes:
    """The .xlsx bytes of `notice`."""
    # Every cell is built with its finished style: a province's 得分明细 has 100,000 cells, and
    # styling them one attribute at a time (each assignment looks the style up in the workbook)
    # took seconds.
    with collector_paused():
        wb = Workbook()
        styles = _Styles(wb)
        table = wb.active
        assert table is not None
        table.title = TABLE
        _table(table, notice, styles)
        _details(wb.create_sheet(DETAILS), notice, styles)
        _adopted(wb.create_sheet(ADOPTED), notice, styles)
        _about(wb.create_sheet(ABOUT), notice)
        moment = datetime.combine(notice.issued, time(9))
        wb.properties.creator = notice.office
        wb.properties.title = notice.subject
        wb.properties.created = wb.properties.modified = moment
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()


class _Styles:
    """The few cell styles of the workbook, each looked up once; `cells` builds a row of cells."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self.grid = grid = Alignment(horizontal="center", vertical="center", wrap_text=True)
        self.title = self._array(
            font=Font(name="黑体", size=14, bold=True), alignment=Alignment(horizontal="center")
        )
        self.head = self._array(font=_HEAD, fill=_FILL, border=_BOX, alignment=grid)
        self.cell = self._array(border=_BOX, alignment=grid)
        self.points = self._array(border=_BOX, alignment=grid, number_format=_POINTS)
        self.note = self._array(
            border=_BOX, alignment=Alignment(horizontal="left", vertical="center", wrap_text=True)
        )

    def _array(
        self,
        *,
        font: Font = DEFAULT_FONT,
        fill: PatternFill = DEFAULT_EMPTY_FILL,
        border: Border = DEFAULT_BORDER,
        alignment: Alignment | None = None,
        number_format: str = "General",
    ) -> StyleArray:
        # A style bound to the workbook but not registered as a named one: its style array is
        # what assigning font, fill, border, alignment and format to a cell would make (xfId 0,
        # "Normal"), ready to give to every cell of that style.
        style = NamedStyle(
            name="_",
            font=font,
            fill=fill,
            border=border,
            alignment=alignment or Alignment(),
            number_format=number_format,
        )
        style.bind(self.wb)
        return style.as_tuple()

    def cells(self, ws: Worksheet, values: Sequence[object], styles: Sequence[StyleArray]) -> list[Cell]:
        return [Cell(ws, value=v, style_array=a) for v, a in zip(values, styles, strict=True)]


def _widths(ws: Worksheet, widths: Sequence[float]) -> None:
    for n, width in enumerate(widths, 1):
        ws.column_dimensions[_col(n)].width = width


def _table(ws: Worksheet, notice: Notice, styles: _Styles) -> None:
    year, month = notice.year_month
    headers = [
        "序号",
        "单位",
        f"报送篇数（{_fmt(notice.draft_points)}分/篇）",
        *(c.header for c in notice.columns),
        "其他加减分",
        "本月得分",
        "累计得分",
    ]
    n = len(headers)
    _widths(ws, [6, 22, 14, *([16] * len(notice.columns)), 12, 11, 11])
    ws.freeze_panes = "C3"
    title = f"{year}年{month}月份政务信息报送及采用情况统计表" + ("（更正）" if notice.correction else "")
    ws.append(styles.cells(ws, [title], [styles.title]))
    ws.append(styles.cells(ws, headers, [styles.head] * n))
    body = [styles.cell] * (n - 3) + [styles.points] * 3
    for r in notice.rows:
        values = [r.number, r.unit, r.submitted, *r.adopted]
        values += [points_json(r.bonus), points_json(r.score), points_json(r.cumulative)]
        ws.append(styles.cells(ws, values, body))
    total = len(notice.rows) + 2
    # Figures, not =SUM(): a workbook nobody has recalculated (LibreOffice keeps xlsx results as
    # stored, and openpyxl stores none) would otherwise show an empty 合计.
    sums = [
        "合计",
        None,
        notice.submitted,
        *(notice.adopted_total(c) for c in notice.columns),
        *(points_json(sum((getattr(r, k) for r in notice.rows), Decimal(0))) for k in _SUMS),
    ]
    ws.append(sums)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n)
    ws.merge_cells(start_row=total + 1, start_column=1, end_row=total + 1, end_column=2)
    # The total row is styled once merged, so that its merged 单位 cell gets the grid's style too
    # (merging replaces it by a bare cell, bordered as the first cell is at that moment).
    for cell in ws[total + 1]:
        cell.border = _BOX
        cell.alignment = styles.grid
        cell.font = _HEAD
    for cell in ws[total + 1][-3:]:
        cell.number_format = _POINTS


def _details(ws: Worksheet, notice: Notice, styles: _Styles) -> None:
    headers = ["单位", "规则", "项目", "稿件编号", "采用编号", "撰稿人", "分值", "说明"]
    _widths(ws, [22, 26, 16, 9, 9, 10, 8, 90])
    ws.freeze_panes = "B2"
    ws.append(styles.cells(ws, headers, [styles.head] * 8))
    body = [styles.cell] * 6 + [styles.points, styles.note]
    names: dict[str, str] = {}
    for unit, line in notice.details:
        name = names.get(line.rule)
        if name is None:
            name = names[line.rule] = _rule_name(line.rule, notice)
        values = [
            unit,
            line.rule,
            name,
            line.submission_id,
            line.adoption_id,
            line.person,
            points_json(line.points),
            line.note,
        ]
        ws.append(styles.cells(ws, values, body))
    ws.auto_filter.ref = f"A1:H{len(notice.details) + 1}"


def _rule_name(rule: str, notice: Notice) -> str:
    kind, _, rest = rule.partition(":")
    if kind == "adoption":
        label = next((c.label for c in notice.columns if c.channel == rest), rest)
        return f"{label}采用"
    if kind == "article":
        return {"research": "调研类信息", "experience": "经验类信息"}.get(rest.split(":")[0], rest) + (
            "（未完成）" if rest.endswith(":missing") else ""
        )
    if kind == "entry":
        return "办公室登记"
    return _RULES.get(rule, rule)


def _adopted(ws: Worksheet, notice: Notice, styles: _Styles) -> None:
    _widths(ws, [6, 20, 60, 22])
    ws.append(styles.cells(ws, ["序号", "采用渠道", "标题", "单位"], [styles.head] * 4))
    for n, a in enumerate(notice.adopted, 1):
        ws.append(styles.cells(ws, [n, a.channel, a.title, a.unit], [styles.cell] * 4))


def _about(ws: Worksheet, notice: Notice) -> None:
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["B"].width = 60
    rows = [
        ("月份", notice.month.label),
        ("印发日期", notice.issued.isoformat()),
        ("发文单位", notice.office),
        ("计分规则", notice.profile),
        ("更正", notice.correction or 0),
        ("说明", "分值按两位小数显示，单元格中为精确值；如统计错误，请及时提出，以便核实。"),
    ]
    for row in rows:
        ws.append(list(row))


def _col(n: int) -> str:
    return str(get_column_letter(n))


def _fmt(points: Decimal) -> str:
    return format(points.normalize(), "f")


@dataclass(frozen=True)
class Snapshot:
    """What a notice announced, per unit, for comparing a correction with it."""

    issued: date | None
    columns: tuple[str, ...]
    rows: Mapping[str, tuple[int, tuple[int, ...], Decimal, Decimal, Decimal]]
    adopted: frozenset[tuple[str, str, str]]  # (title, unit, channel)


def snapshot(notice: Notice) -> Snapshot:
    return Snapshot(
        issued=notice.issued,
        columns=tuple(c.channel for c in notice.columns),
        rows={r.unit: (r.submitted, r.adopted, r.bonus, r.score, r.cumulative) for r in notice.rows},
        adopted=frozenset((a.title, a.unit, a.channel) for a in notice.adopted),
    )


def read_snapshot(data: bytes) -> Snapshot:
    """What a notice's workbook announced: its table and adopted drafts (ValueError if not one)."""
    wb = load_workbook(io.BytesIO(data), read_only=True)
    try:
        if TABLE not in wb.sheetnames or ADOPTED not in wb.sheetnames:
            raise ValueError("not a notice workbook")
        about = {str(r[0]): r[1] for r in wb[ABOUT].iter_rows(values_only=True) if r and r[0]}
        rows = list(wb[TABLE].iter_rows(min_row=2, values_only=True))
        header, body = rows[0], rows[1:]
        channels = tuple(str(h).partition("（")[0] for h in header[3:-3])
        table = {}
        for r in body:
            if r[0] == "合计" or r[1] is None:
                continue
            n = len(channels)
            table[str(r[1])] = (
                int(r[2] or 0),
                tuple(int(v or 0) for v in r[3 : 3 + n]),
                _decimal(r[3 + n]),
                _decimal(r[4 + n]),
                _decimal(r[5 + n]),
            )
        adopted = {
            (str(r[2]), str(r[3]), str(r[1]))
            for r in wb[ADOPTED].iter_rows(min_row=2, values_only=True)
            if r and r[2]
        }
        issued = about.get("印发日期")
        return Snapshot(
            issued=date.fromisoformat(str(issued)) if issued else None,
            columns=channels,
            rows=table,
            adopted=frozenset(adopted),
        )
    finally:
        wb.close()


def _decimal(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.0001"))


def changes(previous: Snapshot, current: Notice) -> tuple[str, ...]:
    """What a correction changes, unit by unit, then the adopted drafts added or withdrawn."""
    out = []
    names = [c.channel for c in current.columns]
    for row in current.rows:
        before = previous.rows.get(row.unit)
        if before is None:
            out.append(f"{row.unit}：新增列入通报，本月得分{format_points(row.score)}分")
            continue
        submitted, adopted, bonus, score, cumulative = before
        was = dict(zip(previous.columns, adopted, strict=False))
        parts = []
        if submitted != row.submitted:
            parts.append(f"报送篇数由{submitted}篇更正为{row.submitted}篇")
        for name, now_count in zip(names, row.adopted, strict=True):
            if was.get(name, 0) != now_count:
                parts.append(f"{name}采用由{was.get(name, 0)}篇更正为{now_count}篇")
        for label, old, new in (("其他加减分", bonus, row.bonus), ("本月得分", score, row.score)):
            if format_points(old) != format_points(new):
                parts.append(f"{label}由{format_points(old)}分更正为{format_points(new)}分")
        if format_points(cumulative) != format_points(row.cumulative):
            parts.append(f"累计得分由{format_points(cumulative)}分更正为{format_points(row.cumulative)}分")
        if parts:
            out.append(f"{row.unit}：{'，'.join(parts)}")
    now_adopted = {(a.title, a.unit, a.channel) for a in current.adopted}
    for title, unit, channel in sorted(previous.adopted - now_adopted):
        out.append(f"撤销采用：《{title}》（{unit}，{channel}）")
    for title, unit, channel in sorted(now_adopted - previous.adopted):
        out.append(f"补充采用：《{title}》（{unit}，{channel}）")
    return tuple(out)
