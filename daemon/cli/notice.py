"""Notices (二、(四) 定期通报): `notice monthly` and `remind weekly`; the daemon sends both on schedule."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from daemon.cli.common import clock, database, fail, opened, read_config, short_lived

notice_app = typer.Typer(no_args_is_help=True, help="月度通报：政务信息报送及采用情况通报")
remind_app = typer.Typer(no_args_is_help=True, help="报送提醒：每周未完成报送任务的单位")


@notice_app.command("monthly")
def notice_monthly(
    ctx: typer.Context,
    month: Annotated[str, typer.Option("--month", help="通报的月份，如 2025-06")],
    out: Annotated[Path | None, typer.Option("--out", help="生成文件的目录（默认当前目录）")] = None,
    send: Annotated[bool, typer.Option("--send", help="加入发送队列：发给办公室和各单位信息宣传员")] = False,
    correct: Annotated[
        bool, typer.Option("--correct", help="更正上次发出的通报（标题注明“更正”并列出变化）")
    ] = False,
) -> None:
    """生成月度通报（Word 公文、Excel 统计表、邮件正文）；不加 --send 时只生成文件，不发送。"""
    with short_lived():
        _notice_monthly(ctx, month=month, out=out, send=send, correct=correct)


def _notice_monthly(ctx: typer.Context, *, month: str, out: Path | None, send: bool, correct: bool) -> None:
    from daemon import notices
    from daemon.db import session
    from scoring.periods import parse_month

    try:
        period = parse_month(month)
    except ValueError:
        fail(f"无法识别的月份：{month}（应写作 2025-06）")
    added = 0
    try:
        with database(ctx) as (config, engine), session(engine) as s:
            now = clock()
            notice = notices.build_notice_for(s, config, period, now=now, correct=correct)
            if send:
                added = notices.queue_notice(s, config, notice, now=now)
    except notices.NoticeError as exc:
        fail(str(exc))
    if out is not None or not send:
        for path in notices.write_notice(notices.render_notice_files(notice), out or Path(".")):
            typer.echo(f"已生成：{path}")
    if send:
        if added:
            typer.echo(f"《{notice.subject}》已加入发送队列，共 {added} 封，将在下次收取时发出")
        else:
            typer.echo("该通报此前已加入发送队列，未重复发送（数据有变化时请用 --correct 发更正通报）")


@remind_app.command("weekly")
def remind_weekly(
    ctx: typer.Context,
    week: Annotated[str | None, typer.Option("--week", help="ISO 周，如 2025-W25（默认本周）")] = None,
    send: Annotated[
        bool, typer.Option("--send", help="加入发送队列：发给办公室（按配置也提醒未完成的单位）")
    ] = False,
) -> None:
    """每周报送提醒：未完成本周任务的单位、各单位本月进度、待办公室处理的来信。"""
    from daemon import notices
    from daemon.db import session
    from daemon.notice_mail import render_weekly
    from daemon.runtime import system_clock
    from scoring.periods import parse_week, week_of

    now = system_clock()
    try:
        period = parse_week(week) if week else week_of(now)
    except ValueError:
        fail(f"无法识别的周：{week}（应写作 2025-W25）")
    config = read_config(ctx)
    schedule = notices.schedule_from_config(config)
    with opened(config) as engine, session(engine) as s:
        if send:
            added = notices.queue_weekly(
                s, config, period, now=now, remind_publicists=schedule.remind_publicists
            )
        else:
            mail = render_weekly(s, config, period, now=now)
    if send:
        typer.echo(
            f"{period.label} 报送提醒已加入发送队列 {added} 封" if added else "该周提醒此前已加入发送队列"
        )
    else:
        typer.echo(f"主题：{mail.subject}\n\n{mail.text}")
