"""What the office writes into the scoring ledger by hand: `ledger import` (history) and `entry`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from daemon.cli.common import database, fail, opened, read_config

ledger_app = typer.Typer(no_args_is_help=True, help="稿件台账：导入系统启用前的历史数据")
entry_app = typer.Typer(no_args_is_help=True, help="办公室登记的计分项目：加分、扣分、固定分项")


@ledger_app.command("import")
def ledger_import(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="历史数据表（.xlsx 或 .csv）：单位、月份、报送、各采用渠道篇数、得分")
    ],
) -> None:
    """导入系统启用前各单位各月的报送、采用和得分，使累计得分从第一天起就正确。"""
    from daemon.db import session
    from daemon.history import HistoryError, import_history
    from daemon.runtime import system_clock

    try:
        with database(ctx) as (config, engine), session(engine) as s:
            report = import_history(s, config, file, now=system_clock())
    except HistoryError as exc:
        fail(str(exc))
    typer.echo(
        f"已导入历史数据：新增 {report.added} 条，更新 {report.updated} 条（{'、'.join(report.months) or '无'}）"
    )
    if report.ignored_columns:
        typer.echo(f"以下列未导入：{'、'.join(report.ignored_columns)}")


@entry_app.command("add")
def entry_add(
    ctx: typer.Context,
    kind: Annotated[str, typer.Option("--kind", help="计分项目（计分规则中的名称），如 solicitation、late")],
    unit: Annotated[str | None, typer.Option("--unit", help="单位名称")] = None,
    submission: Annotated[int | None, typer.Option("--submission", help="稿件编号")] = None,
    points: Annotated[str | None, typer.Option("--points", help="分值（不填则用计分规则的默认分值）")] = None,
    month: Annotated[str | None, typer.Option("--month", help="计入月份，如 2025-06（默认本月）")] = None,
    person: Annotated[str | None, typer.Option("--person", help="只计给这位撰稿人")] = None,
    note: Annotated[str, typer.Option("--note", help="说明，如约稿题目")] = "",
) -> None:
    """登记一项加分、扣分或固定分项（按单位或按稿件）。"""
    from decimal import Decimal, InvalidOperation

    from daemon import ledger
    from daemon.db import session
    from daemon.models import Submission, Unit
    from daemon.models_scoring import Entry
    from daemon.runtime import system_clock
    from daemon.scoring_io import load_profile
    from scoring.periods import day_of, month_of, parse_month
    from scoring.split import fmt

    if (unit is None) == (submission is None):
        fail("请指定 --unit 或 --submission 之一")
    amount = None
    if points is not None:
        try:
            amount = Decimal(points)
        except InvalidOperation:
            fail(f"分值“{points}”不是数字")
        if not amount.is_finite() or amount != amount.quantize(Decimal("0.0001")) or abs(amount) >= 10**6:
            fail(f"分值“{points}”无效（最多四位小数）")
    now = system_clock()
    try:
        period = parse_month(month) if month else month_of(now)
    except ValueError:
        fail(f"无法识别的月份：{month}（应写作 2025-06）")
    first = day_of(period.start)
    config = read_config(ctx)
    profile = load_profile(config)
    with opened(config) as engine, session(engine) as s:
        sub = s.get(Submission, submission) if submission is not None else None
        if submission is not None and sub is None:
            fail(f"没有编号为 {submission} 的稿件")
        row = ledger.unit_by_name_or_alias(s, unit) if unit else None
        if unit is not None and row is None:
            fail(f"配置中没有单位“{unit}”")
        home = row or (s.get(Unit, sub.unit_id) if sub is not None and sub.unit_id is not None else None)
        rules = profile.rules(period, home.group if home else "")
        item = rules.item(kind)
        if item is None:
            known = "、".join(f"{i.kind}（{i.label}）" for i in rules.items)
            fail(f"计分规则中没有计分项目“{kind}”（现有：{known}）")
        if amount is None and item.points is None:
            fail(f"“{item.label}”没有默认分值，请用 --points 指定")
        entry = Entry(
            kind=kind,
            period=first,
            unit_id=row.id if row else None,
            submission_id=sub.id if sub else None,
            person=person,
            points=amount,
            note=note,
            created_by="cli",
            created_at=now,
        )
        s.add(entry)
        s.flush()
        target = f"稿件 #{sub.id}《{sub.title}》" if sub is not None else (row.name if row else "")
    given = fmt(amount) if amount is not None else f"{fmt(item.points or Decimal(0))}（默认）"
    typer.echo(f"已登记 #{entry.id}：{item.label} {given} 分，{target}，计入{first.year}年{first.month}月")


@entry_app.command("list")
def entry_list(
    ctx: typer.Context,
    month: Annotated[str | None, typer.Option("--month", help="月份，如 2025-06")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """列出办公室登记的计分项目。"""
    from sqlmodel import col, select

    from daemon.db import session
    from daemon.models import Unit
    from daemon.models_scoring import Entry
    from scoring.periods import day_of, parse_month
    from scoring.results import format_points, points_json

    try:
        period = parse_month(month) if month else None
    except ValueError:
        fail(f"无法识别的月份：{month}（应写作 2025-06）")
    with database(ctx) as (_, engine), session(engine, readonly=True) as s:
        units = {u.id: u.name for u in s.exec(select(Unit))}
        stmt = select(Entry).order_by(col(Entry.period), col(Entry.id))
        if period is not None:
            stmt = stmt.where(Entry.period >= day_of(period.start), Entry.period < day_of(period.end))
        entries = list(s.exec(stmt))
    rows = [
        {
            "id": e.id,
            "kind": e.kind,
            "month": f"{e.period:%Y-%m}",
            "unit": units.get(e.unit_id),
            "submission_id": e.submission_id,
            "person": e.person,
            "points": points_json(e.points) if e.points is not None else None,
            "note": e.note,
            "created_by": e.created_by,
        }
        for e in entries
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r, e in zip(rows, entries, strict=True):
        target = f"稿件 #{r['submission_id']}" if r["submission_id"] else r["unit"]
        shown = format_points(e.points) if e.points is not None else "默认"
        typer.echo(
            f"#{r['id']} {r['month']} {r['kind']} {shown} 分 {target} {r['person'] or ''} {r['note']}".rstrip()
        )
    typer.echo(f"共 {len(rows)} 项")
