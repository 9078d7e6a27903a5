"""`adopt import FILE`: adoptions from the office's spreadsheet (.xlsx or .csv), one per row."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

from sqlmodel import Session

from daemon import ledger
from daemon.adoptions import (
    AdoptionError,
    BulletinResult,
    Unmatched,
    adopt,
    at_noon,
    candidates,
    match_title,
    record_line,
    resolve_channel,
    split_line,
)
from daemon.config import Config
from daemon.history import Cell, HistoryError, find_header, header_key, read_sheet
from daemon.scoring_io import load_profile
from scoring.periods import SHANGHAI, month_of
from scoring.profile import ProfileError

_ID = {"编号", "稿件编号", "id"}
_TITLE = {"标题", "稿件标题", "题目", "title"}
_UNIT = {"单位", "报送单位", "unit"}
_LEVEL = {"级别", "采用级别", "level"}
_CHANNEL = {"渠道", "采用渠道", "刊物", "采用刊物", "channel"}
_DATE = {"日期", "采用日期", "adopted_at", "date"}


def import_file(
    s: Session,
    config: Config,
    path: Path,
    *,
    level: str | None = None,
    channel: str | None = None,
    adopted_at: datetime | None = None,
    now: datetime,
) -> BulletinResult:
    """`adopt import FILE`: one adoption per row, by 编号 (submission id) or 标题 (fuzzy title).

    Columns 级别 / 渠道 / 采用日期 are optional; `level`, `channel`, `adopted_at` fill them in.
    """
    try:
        rows = read_sheet(path)
        start = find_header(rows, _ID | _TITLE)
    except HistoryError as exc:
        raise AdoptionError(str(exc)) from exc
    keys = [header_key(c) for c in rows[start][1]]
    roles = {"id": _ID, "title": _TITLE, "unit": _UNIT, "level": _LEVEL, "channel": _CHANNEL, "date": _DATE}
    cols = {
        role: next((i for i, k in enumerate(keys) if k in {header_key(n) for n in names}), None)
        for role, names in roles.items()
    }
    result = BulletinResult()
    pool = candidates(s, before=now)
    for number, row in rows[start + 1 :]:
        if not any(str(c or "").strip() for c in row):
            continue
        cells = {role: row[i] if i is not None and i < len(row) else None for role, i in cols.items()}
        text = {role: str(value or "").strip() for role, value in cells.items()}
        line = f"第{number}行：" + (f"#{text['id']}" if text["id"] else text["title"])
        try:
            when = _when(cells["date"]) or adopted_at or now
        except ValueError:
            result.unmatched.append(Unmatched(line, f"采用日期“{text['date']}”无法识别"))
            continue
        row_level, row_channel = text["level"] or level, text["channel"] or channel
        if text["id"]:
            if not text["id"].removesuffix(".0").isdigit():
                result.unmatched.append(Unmatched(line, f"编号“{text['id']}”不是数字"))
                continue
            try:
                matched = adopt(
                    s,
                    config,
                    submission_id=int(text["id"].removesuffix(".0")),
                    level=row_level,
                    channel=row_channel,
                    adopted_at=when,
                    now=now,
                    created_by=f"import:{path.name}",
                    note=line,
                )
            except AdoptionError as exc:
                result.unmatched.append(Unmatched(line, str(exc)))
                continue
            result.matched.append(matched)
            continue
        try:
            target = resolve_channel(
                load_profile(config).rules(month_of(when), ""), level=row_level, channel=row_channel
            )
        except ProfileError as exc:
            result.unmatched.append(Unmatched(line, str(exc)))
            continue
        title, unit = split_line(s, text["title"])
        named = ledger.unit_by_name_or_alias(s, text["unit"]) if text["unit"] else None
        found = match_title(title, named.name if named else unit, pool, adopted_at=when)
        record_line(
            s,
            config,
            result,
            line,
            found,
            channel=target,
            adopted_at=when,
            now=now,
            created_by=f"import:{path.name}",
        )
    return result


def _when(value: Cell) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    if isinstance(value, date):
        return at_noon(value)
    found = re.match(r"^\s*(\d{4})\D+(\d{1,2})\D+(\d{1,2})", str(value or ""))
    return at_noon(date(int(found[1]), int(found[2]), int(found[3]))) if found else None
