"""Scoring commands (DESIGN.md "Command line"): scores and quota, with their tables."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from daemon.cli.common import clock, fail, opened, read_config, short_lived

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scoring.periods import Period
    from scoring.results import Line, MonthScores, YearScores

scores_app = typer.Typer()


def _period_arg(month: str | None, year: str | None) -> tuple[Period | None, int | None]:
    from scoring.periods import parse_month

    if bool(month) == bool(year):
        fail("请指定 --month YYYY-MM 或 --year YYYY 之一")
    if month:
        try:
            return parse_month(month), None
        except ValueError:
            fail(f"无法识别的月份：{month}（应写作 2025-06）")
    assert year is not None
    if not (year.isdigit() and len(year) == 4):
        fail(f"无法识别的年份：{year}（应写作 2025）")
    return None, int(year)


def _warn(warnings: Iterable[str]) -> None:
    import logging

    for w in dict.fromkeys(warnings):
        logging.getLogger("xinbao.scoring").warning(w)


@scores_app.command()
def scores(
    ctx: typer.Context,
    month: Annotated[str | None, typer.Option("--month", help="月份，如 2025-06")] = None,
    year: Annotated[str | None, typer.Option("--year", help="年份，如 2025")] = None,
    people: Annotated[bool, typer.Option("--people", help="同时列出个人得分")] = False,
    unit: Annotated[str | None, typer.Option("--unit", help="只显示这个单位的明细")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON（DESIGN.md 约定的格式）")] = False,
) -> None:
    """各单位（及个人）的月度或年度得分，每一分都列明计分规则、稿件和撰稿人。"""
    with short_lived():
        _scores(ctx, month=month, year=year, people=people, unit=unit, as_json=as_json)


def _scores(
    ctx: typer.Context, *, month: str | None, year: str | None, people: bool, unit: str | None, as_json: bool
) -> None:
    from daemon.db import session
    from daemon.records_io import load_month_records, load_records
    from daemon.scoring_io import load_calendar, load_profile, year_period
    from scoring.engine import score_month, score_year
    from scoring.periods import day_of

    period, year_number = _period_arg(month, year)
    config = read_config(ctx)
    if unit is not None and config.unit_by_name(unit) is None:
        fail(f"配置中没有单位“{unit}”")
    profile, calendar = load_profile(config), load_calendar(config)
    the_year = day_of(period.start).year if period is not None else year_number
    assert the_year is not None
    with opened(config) as engine, session(engine, readonly=True) as s:
        records = (
            load_month_records(s, config, period)
            if period is not None
            else load_records(s, config, year_period(the_year))
        )
    common: dict[str, Any] = {
        "profile": profile,
        "calendar": calendar,
        "now": clock(),
        **records.engine_args(),
    }
    # The year shows each month's sums: its drafts need not be itemized.
    result = (
        score_month(month=period, **common)
        if period is not None
        else score_year(year=the_year, itemized=False, **common)
    )
    _warn((*result.warnings, *calendar.warnings))
    if as_json:
        # Indented for a person at a terminal; piped, the C encoder (indent=None) is ~5x faster on
        # a province's year of lines.
        indent = 2 if sys.stdout.isatty() else None
        typer.echo(json.dumps(result.to_json(people=people), ensure_ascii=False, indent=indent))
        return
    found = config.unit_by_name(unit) if unit else None
    typer.echo(describe_scores(result, people=people, unit=found.name if found else None))


def describe_scores(result: MonthScores | YearScores, *, people: bool, unit: str | None = None) -> str:
    """The human form of `scores`: a table of units, then every unit's lines (2 decimal places)."""
    from rich.table import Table

    from scoring.results import MonthScores, format_points

    monthly = isinstance(result, MonthScores)
    if isinstance(result, MonthScores):
        first = result.month.start
        heading = f"{first.year}年{first.month}月各单位得分（计分规则：{result.profile}）"
    else:
        heading = f"{result.year}年各单位得分（累计）"
    table = Table()
    columns = (
        ("单位", "分组", "报送", "本月得分", "累计得分") if monthly else ("单位", "分组", "报送", "全年得分")
    )
    for column in columns:
        table.add_column(column, justify="right" if column not in ("单位", "分组") else "left")
    shown = [u for u in result.units if unit is None or u.unit == unit]
    for u in shown:
        cells = [u.unit, _GROUP_NAMES.get(u.group, u.group), str(u.submitted), format_points(u.score)]
        table.add_row(*cells, *([format_points(u.cumulative)] if monthly else []))
    out = [heading, _render(table), ""]
    for u in shown:
        out.append(
            f"{u.unit}：{'本月' if monthly else '全年'} {format_points(u.score)} 分（{len(u.lines)} 项）"
        )
        out.extend(_line_text(line) for line in u.lines)
        out.append("")
    if people:
        ranked = Table()
        for column in ("名次", "姓名", "单位", "得分"):
            ranked.add_column(column)
        chosen = [p for p in result.people if unit is None or p.unit == unit]
        for rank, p in enumerate(chosen, 1):
            ranked.add_row(str(rank), p.name, p.unit, format_points(p.score))
        out.extend(["个人得分", _render(ranked)])
    out.append("分值按两位小数显示；合计按精确值计算后取两位小数。")
    return "\n".join(out).rstrip()


_GROUP_NAMES = {"county": "县区", "department": "科室"}


def _line_text(line: Line) -> str:
    from scoring.results import format_points

    points = ("+" if line.points > 0 else "") + format_points(line.points)
    ref = f" #{line.submission_id}" if line.submission_id is not None else ""
    return f"  {points:>7}  [{line.rule}]{ref}  {line.note}"


def _render(table: Any) -> str:
    from rich.console import Console

    console = Console(width=120, markup=False, highlight=False, color_system=None)
    with console.capture() as captured:
        console.print(table)
    return captured.get().rstrip()


@scores_app.command()
def quota(
    ctx: typer.Context,
    week: Annotated[str | None, typer.Option("--week", help="ISO 周，如 2025-W25")] = None,
    month: Annotated[str | None, typer.Option("--month", help="月份，如 2025-06")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON（DESIGN.md 约定的格式）")] = False,
) -> None:
    """各单位在一周（或一月）内的报送篇数与任务数，按中国工作日历计算。"""
    with short_lived():
        _quota(ctx, week=week, month=month, as_json=as_json)


def _quota(ctx: typer.Context, *, week: str | None, month: str | None, as_json: bool) -> None:
    from daemon.db import session
    from daemon.records_io import load_records
    from daemon.scoring_io import load_calendar, load_profile
    from scoring.periods import parse_month, parse_week
    from scoring.quota import month_quota, week_quota

    if bool(week) == bool(month):
        fail("请指定 --week YYYY-Www 或 --month YYYY-MM 之一")
    try:
        period = parse_week(week) if week else parse_month(month or "")
    except ValueError:
        fail(f"无法识别的期间：{week or month}（周写作 2025-W25，月份写作 2025-06）")
    config = read_config(ctx)
    profile, calendar = load_profile(config), load_calendar(config)
    with opened(config) as engine, session(engine, readonly=True) as s:
        records = load_records(s, config, period)
    common: dict[str, Any] = {
        "units": records.units,
        "submissions": records.submissions,
        "profile": profile,
        "calendar": calendar,
    }
    report = week_quota(week=period, **common) if week else month_quota(month=period, **common)
    _warn(calendar.warnings)
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    from rich.table import Table

    table = Table()
    for column in ("单位", "分组", "已报", "应报", "少报"):
        table.add_column(column)
    for row in report.units:
        table.add_row(
            row.unit,
            _GROUP_NAMES.get(row.group, row.group),
            str(row.submitted),
            str(row.required),
            str(row.short) if row.short else "",
        )
    short = [row.unit for row in report.units if row.short]
    typer.echo(f"{period.label} 报送任务（工作日 {report.workdays} 天）")
    typer.echo(_render(table))
    typer.echo(f"未完成任务的单位：{'、'.join(short)}" if short else "各单位均已完成任务。")
