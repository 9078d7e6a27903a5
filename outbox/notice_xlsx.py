"""The monthly notice as a workbook (.xlsx): the notice's table, every scored line, the adopted drafts.

Sheets: 通报表 (the table of the .docx), 得分明细 (every line of every unit's score, as
`scores --json` explains it), 采用稿件, and 说明 (month, issue date, rule profile). Amounts are
written exactly (at most 4 decimals) and shown with 2. `read_snapshot` reads a sent notice back,
so a correction can list what changed against what the units were told. Written with XlsxWriter
(a province's 得分明细 is 100,000 cells), read back with openpyxl.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from outbox.notice import Notice
from outbox.workbook import WORKBOOK_OPTIONS
from scoring.engine import collector_paused
from scoring.results import format_points, points_json

if TYPE_CHECKING:
    from xlsxwriter import Workbook
    from xlsxwriter.worksheet import Worksheet

TABLE, DETAILS, ADOPTED, ABOUT = "通报表", "得分明细", "采用稿件", "说明"
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
    # XlsxWriter loads here: commands that only read a sent notice back need none of it.
    from xlsxwriter import Workbook

    out = io.BytesIO()
    with collector_paused():
        wb = Workbook(out, WORKBOOK_OPTIONS)
        styles = _Styles(wb)
        _table(wb.add_worksheet(TABLE), notice, styles)
        _details(wb.add_worksheet(DETAILS), notice, styles)
        _adopted(wb.add_worksheet(ADOPTED), notice, styles)
        _about(wb.add_worksheet(ABOUT), notice)
        # `created` is the issue day's 09:00, not now: the same notice gives the same bytes.
        wb.set_properties({"author": notice.office, "title": notice.subject, "created": notice.file_time})
        wb.close()
    return out.getvalue()


class _Styles:
    """The few cell formats of the workbook."""

    def __init__(self, wb: Workbook) -> None:
        box = {"border": 1, "border_color": "#000000"}
        grid = {"align": "center", "valign": "vcenter", "text_wrap": True}
        head = {"font_name": "黑体", "bold": True}
        self.title = wb.add_format({"font_name": "黑体", "font_size": 14, "bold": True, "align": "center"})
        self.head = wb.add_format({**head, "pattern": 1, "bg_color": "#F2F2F2", **box, **grid})
        self.cell = wb.add_format({**box, **grid})
        self.points = wb.add_format({**box, **grid, "num_format": _POINTS})
        self.note = wb.add_format({**box, "align": "left", "valign": "vcenter", "text_wrap": True})
        self.total = wb.add_format({**head, **box, **grid})
        self.total_points = wb.add_format({**head, **box, **grid, "num_format": _POINTS})


def _widths(ws: Worksheet, widths: Sequence[float]) -> None:
    # In pixels (7 per character of the default font): the width then stored is exactly the
    # number of characters given, as Excel's own column widths are; set_column would add padding.
    for n, width in enumerate(widths):
        ws.set_column_pixels(n, n, round(width * 7))


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
    ws.freeze_panes(2, 2)
    title = f"{year}年{month}月份政务信息报送及采用情况统计表" + ("（更正）" if notice.correction else "")
    ws.merge_range(0, 0, 0, n - 1, title, styles.title)
    ws.write_row(1, 0, headers, styles.head)
    for i, r in enumerate(notice.rows, 2):
        ws.write_row(i, 0, [r.number, r.unit, r.submitted, *r.adopted], styles.cell)
        points = [points_json(r.bonus), points_json(r.score), points_json(r.cumulative)]
        ws.write_row(i, n - 3, points, styles.points)
    total = len(notice.rows) + 2
    # Figures, not =SUM(): a workbook nobody has recalculated (LibreOffice keeps xlsx results as
    # stored, and XlsxWriter stores 0) would otherwise show a wrong 合计.
    ws.merge_range(total, 0, total, 1, "合计", styles.total)
    counts = [notice.submitted, *(notice.adopted_total(c) for c in notice.columns)]
    ws.write_row(total, 2, counts, styles.total)
    sums = [points_json(sum((getattr(r, k) for r in notice.rows), Decimal(0))) for k in _SUMS]
    ws.write_row(total, n - 3, sums, styles.total_points)


def _details(ws: Worksheet, notice: Notice, styles: _Styles) -> None:
    headers = ["单位", "规则", "项目", "稿件编号", "采用编号", "撰稿人", "分值", "说明"]
    _widths(ws, [22, 26, 16, 9, 9, 10, 8, 90])
    ws.freeze_panes(1, 1)
    ws.write_row(0, 0, headers, styles.head)
    cell, points, note = styles.cell, styles.points, styles.note
    write_row, write_number, write = ws.write_row, ws.write_number, ws.write
    names: dict[str, str] = {}
    for i, (unit, line) in enumerate(notice.details, 1):
        name = names.get(line.rule)
        if name is None:
            name = names[line.rule] = _rule_name(line.rule, notice)
        write_row(i, 0, (unit, line.rule, name, line.submission_id, line.adoption_id, line.person), cell)
        write_number(i, 6, points_json(line.points), points)
        write(i, 7, line.note, note)
    ws.autofilter(0, 0, len(notice.details), 7)


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
    ws.write_row(0, 0, ["序号", "采用渠道", "标题", "单位"], styles.head)
    for n, a in enumerate(notice.adopted, 1):
        ws.write_row(n, 0, [n, a.channel, a.title, a.unit], styles.cell)


def _about(ws: Worksheet, notice: Notice) -> None:
    _widths(ws, [12, 60])
    rows = [
        ("月份", notice.month.label),
        ("印发日期", notice.issued.isoformat()),
        ("发文单位", notice.office),
        ("计分规则", notice.profile),
        ("更正", notice.correction or 0),
        ("说明", "分值按两位小数显示，单元格中为精确值；如统计错误，请及时提出，以便核实。"),
    ]
    for n, row in enumerate(rows):
        ws.write_row(n, 0, row)


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
    # openpyxl loads here: rendering a notice needs none of it.
    from openpyxl import load_workbook

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
