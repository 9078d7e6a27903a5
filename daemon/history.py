"""`xinbao ledger import FILE.xlsx`: months before the system started, from the office's spreadsheet.

One row per unit and month: 单位, 月份, 报送 (drafts), one column per adoption channel (counts;
headed by the channel's name or label, e.g. 市政府政务信息 or 市政府《政务信息》) and 得分 (the
month's score). Other columns (序号, 累计得分, 备注 …) are ignored and reported. The import is all
or nothing; importing a unit's month again replaces it. Scoring then counts the imported score for
that month, so `cumulative` is right from the first month the system runs.
"""

from __future__ import annotations

import csv
import re
import warnings
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from sqlmodel import Session, select

from daemon import ledger
from daemon.config import Config
from daemon.models_scoring import History
from daemon.scoring_io import load_profile

Cell = str | int | float | date | datetime | None

_UNIT = {"单位", "单位名称", "报送单位", "unit"}
_MONTH = {"月份", "月", "年月", "month"}
_SUBMITTED = {"报送", "报送篇数", "报送数", "报送数量", "报送条数", "submitted"}
_SCORE = {"得分", "本月得分", "月得分", "分数", "score"}
_COUNT_NOISE = re.compile(r"(采用|篇数|条数|数量|篇|条)$")
_MONTH_TEXT = re.compile(r"^\s*(\d{4})\s*(?:年|-|/|\.)?\s*(\d{1,2})\s*月?")


class HistoryError(Exception):
    """A spreadsheet that cannot be imported; the message is Chinese and names rows and columns."""


@dataclass(frozen=True)
class HistoryReport:
    added: int
    updated: int
    months: tuple[str, ...]  # 2025-04, 2025-05: the months the sheet held
    ignored_columns: tuple[str, ...]


def read_sheet(path: Path) -> list[tuple[int, tuple[Cell, ...]]]:
    """The rows of a .csv (UTF-8 or GB18030, as Excel in China saves it) or an .xlsx's first sheet."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            raw = path.read_bytes()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                text = raw.decode("gb18030")
            return [(i, tuple(row)) for i, row in enumerate(csv.reader(text.splitlines()), 1)]
        if suffix in (".xlsx", ".xlsm"):
            from openpyxl import load_workbook

            # openpyxl warns about styles and data validation it drops; nothing we read.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                book = load_workbook(path, read_only=True, data_only=True)
            try:
                sheet = book.worksheets[0]
                return [(i, tuple(row)) for i, row in enumerate(sheet.iter_rows(values_only=True), 1)]
            finally:
                book.close()
    except FileNotFoundError:
        raise HistoryError(f"找不到文件 {path}") from None
    except (OSError, ValueError, KeyError) as exc:
        raise HistoryError(f"无法读取表格 {path}：{exc}") from exc
    raise HistoryError(f"不支持的文件类型 {path.name}：请使用 .xlsx 或 .csv")


def header_key(cell: Cell) -> str:
    return ledger.normalize_title(str(cell or "")).lower()


def find_header(rows: list[tuple[int, tuple[Cell, ...]]], wanted: set[str]) -> int:
    """The index of the first row naming one of `wanted` (a title row may come before the header)."""
    keys = {header_key(w) for w in wanted}
    for index, (_, row) in enumerate(rows):
        if any(header_key(c) in keys for c in row):
            return index
    raise HistoryError(f"表格中没有表头行（应有“{'”或“'.join(sorted(wanted))}”列）")


def parse_month(value: Cell) -> date | None:
    if isinstance(value, datetime | date):
        return date(value.year, value.month, 1)
    match = _MONTH_TEXT.match(str(value or ""))
    if match is None or not 1 <= int(match[2]) <= 12:
        return None
    return date(int(match[1]), int(match[2]), 1)


def parse_points(value: Cell) -> Decimal | None:
    """A score as typed (2.2, "2.2", 2.2000000000000002 from an Excel sum): exact to 0.0001."""
    if value is None or isinstance(value, date | datetime) or str(value).strip() == "":
        return None
    try:
        return Decimal(str(value).strip()).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None


def _count(value: Cell) -> int | None:
    if value is None or str(value).strip() == "":
        return 0
    number = parse_points(value)
    return int(number) if number is not None and number == int(number) and number >= 0 else None


def _channel_columns(config: Config, header: tuple[Cell, ...]) -> dict[int, str]:
    """Header positions naming an adoption channel of any version or group of the profile."""
    names: dict[str, str] = {}
    for version in load_profile(config).versions:
        for rules in (version.default, *(r for _, r in version.groups)):
            for c in rules.channels:
                names.setdefault(header_key(c.name), c.name)
                names.setdefault(header_key(c.label), c.name)
    found = {}
    for i, cell in enumerate(header):
        key = header_key(cell)
        name = names.get(key) or names.get(_COUNT_NOISE.sub("", key))
        if name is not None:
            found[i] = name
    return found


def import_history(s: Session, config: Config, path: Path, *, now: datetime) -> HistoryReport:
    """Read `path` and upsert one History row per unit and month; HistoryError lists every bad row."""
    rows = read_sheet(path)
    start = find_header(rows, _UNIT)
    header = rows[start][1]
    keys = [header_key(c) for c in header]
    columns = {}
    for role, names in (("unit", _UNIT), ("month", _MONTH), ("submitted", _SUBMITTED), ("score", _SCORE)):
        wanted = {header_key(n) for n in names}
        position = next((i for i, k in enumerate(keys) if k in wanted), None)
        if position is None and role != "submitted":
            raise HistoryError(f"表格中没有“{sorted(names)[0]}”列（第{rows[start][0]}行为表头）")
        if position is not None:
            columns[role] = position
    channels = _channel_columns(config, header)
    used = set(columns.values()) | set(channels)
    ignored = tuple(str(c) for i, c in enumerate(header) if i not in used and str(c or "").strip())

    errors: list[str] = []
    parsed: dict[tuple[int, date], History] = {}
    for line, row in rows[start + 1 :]:
        cells = list(row) + [None] * (len(header) - len(row))
        if all(str(c or "").strip() == "" for c in cells):
            continue
        unit_text = str(cells[columns["unit"]] or "").strip()
        unit = ledger.unit_by_name_or_alias(s, unit_text) if unit_text else None
        month = parse_month(cells[columns["month"]])
        score = parse_points(cells[columns["score"]])
        submitted = _count(cells[columns["submitted"]]) if "submitted" in columns else 0
        counts = {name: _count(cells[i]) for i, name in channels.items()}
        problems = []
        if unit is None or unit.id is None:
            problems.append(f"单位“{unit_text}”不在配置中")
        if month is None:
            problems.append(f"月份“{cells[columns['month']]}”无法识别（应写作 2025-05 或 2025年5月）")
        if score is None:
            problems.append(f"得分“{cells[columns['score']]}”不是数字")
        if submitted is None or any(v is None for v in counts.values()):
            problems.append("报送篇数和采用篇数应为非负整数")
        if problems:
            errors.append(f"第{line}行：{'；'.join(problems)}")
            continue
        assert unit is not None
        assert unit.id is not None
        assert month is not None
        assert score is not None
        if (unit.id, month) in parsed:
            errors.append(f"第{line}行：{unit.name} {month:%Y-%m} 在表中重复")
            continue
        adoptions: dict[str, int] = {}
        for name, n in counts.items():
            if n:
                adoptions[name] = adoptions.get(name, 0) + n
        parsed[(unit.id, month)] = History(
            unit_id=unit.id,
            month=month,
            submitted=submitted or 0,
            adoptions=adoptions,
            score=score,
            imported_at=now,
        )
    if errors:
        shown = errors[:20] + ([f"……另有 {len(errors) - 20} 行有误"] if len(errors) > 20 else [])
        raise HistoryError("表格有误，未导入任何数据：\n" + "\n".join(shown))
    added = updated = 0
    for (unit_id, month), new in parsed.items():
        existing = s.exec(select(History).where(History.unit_id == unit_id, History.month == month)).first()
        if existing is None:
            s.add(new)
            added += 1
            continue
        existing.submitted, existing.adoptions = new.submitted, new.adoptions
        existing.score, existing.imported_at = new.score, now
        updated += 1
    s.flush()
    months = tuple(sorted({f"{m:%Y-%m}" for _, m in parsed}))
    return HistoryReport(added=added, updated=updated, months=months, ignored_columns=ignored)
