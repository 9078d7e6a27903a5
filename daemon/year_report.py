"""The year in figures (`xinbao report year`): what an annual information-disclosure report shows.

Per unit and in total: drafts received (every mail-borne draft) and accepted, items published per
channel (website and WeChat columns, by the profile's columns), adoptions per level (the
profile's channel levels), and the year's score; then the 先进集体 / 先进个人 ranking of score_year.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session, col, select

from daemon import records_io, scoring_io
from daemon.config import Config
from daemon.models import Adoption, Submission, Unit
from scoring.engine import score_year
from scoring.profile import CHANNEL_NAMES
from scoring.results import format_points

LEVEL_NAMES = {"national": "国家级", "provincial": "省级", "municipal": "市级"}


@dataclass(frozen=True)
class YearFigures:
    year: int
    columns: tuple[str, ...]  # the header after 单位
    rows: tuple[tuple[str, ...], ...]  # one per unit, then 合计
    units_ranked: tuple[tuple[str, str], ...]  # (unit, score)
    people_ranked: tuple[tuple[str, str, str], ...]  # (name, unit, score)


def year_figures(s: Session, config: Config, year: int, *, now: datetime | None = None) -> YearFigures:
    period = scoring_io.year_period(year)
    profile = scoring_io.load_profile(config)
    rules = profile.rules(period, "")
    column_channel = {c.name: c.channel for c in rules.columns}
    channel_level = {c.name: c.level for c in rules.channels}
    levels = list(dict.fromkeys(c.level for c in rules.channels))
    channels = list(CHANNEL_NAMES)
    units = {u.id: u.name for u in s.exec(select(Unit))}
    received: Counter[str] = Counter()
    accepted: Counter[str] = Counter()
    items: dict[str, Counter[str]] = defaultdict(Counter)
    # Columns, not ORM objects: a province receives 100,000 drafts a year.
    for unit_id, status, category in s.exec(
        select(col(Submission.unit_id), col(Submission.status), col(Submission.category)).where(
            Submission.received_at >= period.start, Submission.received_at < period.end
        )
    ):
        name = units.get(unit_id, "（未登记单位）")
        received[name] += 1
        if status.value in ("accepted", "replaced"):
            accepted[name] += 1
            if category in column_channel:
                items[name][column_channel[category]] += 1
    adopted: dict[str, Counter[str]] = defaultdict(Counter)
    # The adopted draft's unit (none when the draft is not in the ledger: 未登记单位 too).
    for channel, unit_id in s.exec(
        select(col(Adoption.channel), col(Submission.unit_id))
        .select_from(Adoption)
        .outerjoin(Submission, col(Submission.id) == col(Adoption.submission_id))
        .where(
            Adoption.adopted_at >= period.start,
            Adoption.adopted_at < period.end,
            col(Adoption.revoked_at).is_(None),
        )
    ):
        adopted[units.get(unit_id, "（未登记单位）")][channel_level.get(channel, channel)] += 1
    records = records_io.load_records(s, config, period)
    # The ranking needs each month's sums only (score_year's itemized=False).
    scores = score_year(
        year=year,
        profile=profile,
        calendar=scoring_io.load_calendar(config),
        now=now,
        itemized=False,
        **records.engine_args(),
    )
    score_of = {u.unit: u.score for u in scores.units}
    header = (
        "收到稿件",
        "登记稿件",
        *(f"{CHANNEL_NAMES[c]}栏目稿件" for c in channels),
        *(f"{LEVEL_NAMES.get(level, level)}采用" for level in levels),
        "采用合计",
        "全年得分",
    )
    names = [u.name for u in config.units] + sorted(set(received) - {u.name for u in config.units})
    rows = []
    for name in names:
        counts = [received[name], accepted[name], *(items[name][c] for c in channels)]
        counts += [adopted[name][level] for level in levels] + [sum(adopted[name].values())]
        rows.append((name, *map(str, counts), format_points(score_of[name]) if name in score_of else ""))
    totals = [sum(int(r[i]) for r in rows) for i in range(1, len(header))]
    total_score = format_points(sum((u.score for u in scores.units), Decimal(0)))
    rows.append(("合计", *map(str, totals), total_score))
    ranked = sorted(scores.units, key=lambda u: -u.score)
    return YearFigures(
        year=year,
        columns=header,
        rows=tuple(rows),
        units_ranked=tuple((u.unit, format_points(u.score)) for u in ranked),
        people_ranked=tuple((p.name, p.unit, format_points(p.score)) for p in scores.people),
    )


def describe(figures: YearFigures) -> str:
    lines = [f"{figures.year}年政务信息工作情况", "单位\t" + "\t".join(figures.columns)]
    lines += ["\t".join(row) for row in figures.rows]
    lines += ["", "先进集体（按全年得分）"]
    lines += [f"{i}. {unit} {score}分" for i, (unit, score) in enumerate(figures.units_ranked, 1)]
    lines += ["", "先进个人（按全年得分）"]
    lines += [
        f"{i}. {name}（{unit}） {score}分" for i, (name, unit, score) in enumerate(figures.people_ranked, 1)
    ]
    return "\n".join(lines)


def export_xlsx(figures: YearFigures, path: Path) -> None:
    # XlsxWriter loads here: `report year` without --out needs none of it.
    from xlsxwriter import Workbook

    from outbox.workbook import WORKBOOK_OPTIONS

    # Built in memory, then written: a bad --out fails with the usual OSError.
    out = io.BytesIO()
    book = Workbook(out, WORKBOOK_OPTIONS)
    bold = book.add_format({"bold": True})
    sheets = (
        ("年度情况", ["单位", *figures.columns], [[r[0], *map(_number, r[1:])] for r in figures.rows]),
        (
            "先进集体",
            ["名次", "单位", "全年得分"],
            [[i, u, _number(x)] for i, (u, x) in enumerate(figures.units_ranked, 1)],
        ),
        (
            "先进个人",
            ["名次", "姓名", "单位", "全年得分"],
            [[i, name, unit, _number(x)] for i, (name, unit, x) in enumerate(figures.people_ranked, 1)],
        ),
    )
    for title, header, rows in sheets:
        sheet = book.add_worksheet(title)
        sheet.write_row(0, 0, header, bold)
        for n, row in enumerate(rows, 1):
            sheet.write_row(n, 0, row)
    book.close()
    path.write_bytes(out.getvalue())


def _number(text: str) -> float | int | str:
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() else value
