"""`xinbao adopt`: record, revoke and import adoptions of drafts by channels."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from daemon.cli.common import database, fail, opened, read_config

if TYPE_CHECKING:
    from datetime import datetime


class _AdoptGroup(TyperGroup):
    """`adopt ID …` beside `adopt revoke` and `adopt import`: anything else runs the hidden `add`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["add", *args]
        return super().parse_args(ctx, args)


adopt_app = typer.Typer(
    cls=_AdoptGroup,
    no_args_is_help=True,
    help="登记采用：adopt ID --level LEVEL [--channel NAME]；adopt revoke ID；adopt import FILE",
)
LevelOpt = Annotated[
    str | None,
    typer.Option("--level", help="采用级别：municipal（市级）、provincial（省级）、national（国家级）"),
]
ChannelOpt = Annotated[
    str | None, typer.Option("--channel", help="采用渠道名称（计分规则中的名称），如 市政府政务信息")
]
DateOpt = Annotated[str | None, typer.Option("--date", help="采用日期，如 2025-06-20（默认今天）")]


def _adoption_date(value: str | None) -> datetime | None:
    from datetime import date

    from daemon.adoptions import at_noon

    if value is None:
        return None
    try:
        return at_noon(date.fromisoformat(value))
    except ValueError:
        fail(f"无法识别的日期：{value}（应写作 2025-06-20）")


@adopt_app.command("add", hidden=True)
def adopt_add(
    ctx: typer.Context,
    submission_id: Annotated[int, typer.Argument(metavar="ID", help="稿件编号")],
    level: LevelOpt = None,
    channel: ChannelOpt = None,
    on: DateOpt = None,
    note: Annotated[str, typer.Option("--note", help="备注")] = "",
) -> None:
    """登记一篇稿件被采用（按稿件编号）。"""
    from daemon.adoptions import AdoptionError, adopt
    from daemon.db import session
    from daemon.runtime import system_clock
    from scoring.periods import day_of

    if level is None and channel is None:
        fail("请用 --level 或 --channel 指定采用渠道")
    config = read_config(ctx)
    now = system_clock()
    when = _adoption_date(on) or now
    try:
        with opened(config) as engine, session(engine) as s:
            m = adopt(
                s,
                config,
                submission_id=submission_id,
                level=level,
                channel=channel,
                adopted_at=when,
                now=now,
                created_by="cli",
                note=note,
            )
    except AdoptionError as exc:
        fail(str(exc))
    day = day_of(when)
    what = f"稿件 #{m.submission.id}《{m.submission.title}》（{m.submission.unit or '未登记单位'}）被{m.channel}采用"
    if m.created:
        typer.echo(f"已登记：{what}，计入{day.year}年{day.month}月得分")
    else:
        typer.echo(f"{what}此前已登记，未重复登记")


@adopt_app.command("revoke")
def adopt_revoke(
    ctx: typer.Context,
    submission_id: Annotated[int, typer.Argument(metavar="ID", help="稿件编号")],
    level: LevelOpt = None,
    channel: ChannelOpt = None,
) -> None:
    """撤销一篇稿件的采用登记（有多条时用 --channel 指定）；相关得分随之撤回。"""
    from daemon.adoptions import AdoptionError, revoke
    from daemon.db import session
    from daemon.runtime import system_clock

    try:
        with database(ctx) as (_, engine), session(engine) as s:
            revoked = revoke(s, submission_id=submission_id, level=level, channel=channel, now=system_clock())
    except AdoptionError as exc:
        fail(str(exc))
    names = "、".join(a.channel for a in revoked)
    typer.echo(f"已撤销稿件 #{submission_id} 的采用登记：{names}；相关得分已撤回")


@adopt_app.command("import")
def adopt_import(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="采用情况表（.xlsx 或 .csv）：编号或标题，可含单位、级别、渠道、采用日期列")
    ],
    level: LevelOpt = None,
    channel: ChannelOpt = None,
    on: DateOpt = None,
) -> None:
    """从表格批量登记采用：按稿件编号，或按标题模糊匹配。"""
    from daemon.adoption_sheet import import_file
    from daemon.adoptions import AdoptionError
    from daemon.db import session
    from daemon.runtime import system_clock

    config = read_config(ctx)
    when = _adoption_date(on)
    try:
        with opened(config) as engine, session(engine) as s:
            result = import_file(
                s, config, file, level=level, channel=channel, adopted_at=when, now=system_clock()
            )
    except AdoptionError as exc:
        fail(str(exc))
    for m in result.matched:
        done = "已登记" if m.created else "此前已登记"
        typer.echo(f"{done}：{m.line} → 稿件 #{m.submission.id}《{m.submission.title}》，{m.channel}")
    for a in result.ambiguous:
        options = "；".join(f"#{c.id}《{c.title}》（{c.unit or '未登记单位'}）" for c in a.candidates)
        typer.echo(f"待确认：{a.line} → 可能是 {options}")
    for u in result.unmatched:
        typer.echo(f"未匹配：{u.line}：{u.reason}")
    typer.echo(
        f"新登记 {result.recorded} 条；已匹配 {len(result.matched)} 条，待确认 {len(result.ambiguous)} 条，"
        f"未匹配 {len(result.unmatched)} 条"
    )
