"""Mail handling commands: parse, init, poll, run, status, submissions, demo, backup, reprocess."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from daemon.cli.common import database, fail, opened, read_config

if TYPE_CHECKING:
    from daemon.poller import PassReport
    from parsers.types import ParsedMessage

mail_app = typer.Typer()


@mail_app.command()
def parse(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="邮件文件（.eml）", exists=True, dir_okay=False)],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON（DESIGN.md 约定的格式）")] = False,
) -> None:
    """离线解析一封邮件，显示将要记录的内容（不连数据库、不联网）。"""
    from daemon.guard import Guard
    from parsers.archive import rar_backend_available

    config = read_config(ctx)
    raw = _strip_mbox_line(file.read_bytes())
    with Guard(limits=config.limits, rar=rar_backend_available()) as guard:
        parsed = guard.parse(raw)
    if as_json:
        typer.echo(json.dumps(parsed.to_json(), ensure_ascii=False, indent=2))
    else:
        from daemon.defects import mime_defects

        typer.echo(describe(parsed))
        defects = mime_defects(raw)
        if defects:
            typer.echo(f"邮件结构缺陷（mail-parser）：{'、'.join(defects)}")


def _strip_mbox_line(raw: bytes) -> bytes:
    # Files saved from mbox tools start with a "From " separator line, which is not a header.
    if raw.startswith(b"From "):
        return raw.split(b"\n", 1)[1] if b"\n" in raw else b""
    return raw


def describe(parsed: ParsedMessage) -> str:
    """The human-readable form of `parse`, in Chinese for the office."""
    lines = [
        f"发件人：{parsed.from_name} <{parsed.from_addr}>".replace(" <>", ""),
        f"主题：{parsed.subject}",
        f"日期：{parsed.date or '（无）'}",
    ]
    if parsed.auto_reply:
        lines.append("这是一封自动回复邮件：不记录、不回复。")
    for i, d in enumerate(parsed.drafts, 1):
        authors = (
            "、".join(f"{a.unit or ''}{' ' if a.unit else ''}{a.name}" for a in d.signoff.authors) or "（无）"
        )
        lines += [
            f"稿件 {i}：《{d.title}》",
            f"  来源：{d.source}",
            f"  字数：{d.chars}　照片：{d.images} 张",
            f"  撰稿人：{authors}",
            f"  初审人：{d.signoff.first_reviewer or '（无）'}　复审人：{d.signoff.second_reviewer or '（无）'}",
        ]
    if not parsed.drafts and not parsed.auto_reply:
        lines.append("没有读到稿件。")
    for p in parsed.problems:
        lines.append(f"问题 [{p.code.value}]：{p.message}")
        lines.append(f"  修改方法：{p.fix}")
    return "\n".join(lines)


def _setup_logging(verbose: bool = False) -> None:
    import logging

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


@mail_app.command()
def init(ctx: typer.Context) -> None:
    """创建或升级数据库，并按配置同步单位和宣传员。"""
    # Opening the database is the whole work: it migrates the schema and syncs units and publicists.
    with database(ctx) as (config, _):
        pass
    typer.echo(
        f"数据库已就绪：{config.database_url()}（单位 {len(config.units)} 个，宣传员 {len(config.publicists)} 名）"
    )


@mail_app.command()
def poll(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="输出调试日志")] = False,
) -> None:
    """处理一轮：收取并处理所有新邮件，发出待发邮件，然后退出。"""
    from daemon.progress import progress_bar
    from daemon.runtime import exclusive, runtime

    _setup_logging(verbose)
    config = read_config(ctx)
    with progress_bar() as progress, runtime(config, progress=progress) as rt, exclusive(rt):
        report = rt.poller.run_pass()
    typer.echo(describe_pass(report))
    if report.error:
        raise typer.Exit(1)


def describe_pass(report: PassReport) -> str:
    states = "，".join(f"{_STATE_NAMES.get(k, k)} {v} 封" for k, v in sorted(report.states.items())) or "无"
    lines = [f"新收邮件 {report.fetched} 封（超大邮件 {report.too_large} 封）；处理结果：{states}"]
    lines.append(
        f"已在邮箱中标记 {report.acknowledged} 封；发出邮件 {report.sent} 封，发送失败 {report.failed_sends} 封"
    )
    if report.error:
        lines.append(f"邮箱访问失败：{report.error}")
    return "\n".join(lines)


_STATE_NAMES = {
    "recorded": "已登记",
    "rejected": "已退稿",
    "ignored": "自动邮件已忽略",
    "quarantined": "已隔离",
    "failed": "处理出错（将重试）",
}


@mail_app.command()
def run(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="输出调试日志")] = False,
) -> None:
    """以守护进程方式运行（前台）：定时收取、处理、回复；SIGTERM 或 Ctrl-C 安全退出。"""
    from daemon.runtime import exclusive, runtime
    from daemon.service import serve

    _setup_logging(verbose)
    config = read_config(ctx)
    with runtime(config) as rt, exclusive(rt):
        serve(rt)


@mail_app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """显示最近一次成功收信时间、待处理、隔离和待发邮件数量。"""
    from daemon.status import describe_status, read_status

    with database(ctx) as (config, engine):
        info = read_status(engine, config)
    typer.echo(json.dumps(info, ensure_ascii=False, indent=2) if as_json else describe_status(info))


_STATUS_NAMES = {
    "accepted": "已采纳计数",
    "rejected": "退稿",
    "duplicate": "重复",
    "unverified": "待核实",
    "replaced": "已被更正稿替代",
}


@mail_app.command()
def submissions(
    ctx: typer.Context,
    month: Annotated[str | None, typer.Option("--month", help="月份，如 2025-06")] = None,
    week: Annotated[str | None, typer.Option("--week", help="ISO 周，如 2025-W25")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="单位名称")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """列出已登记的稿件。"""
    from daemon import queries
    from scoring.periods import parse_month, parse_week

    if month and week:
        raise typer.BadParameter("--month 和 --week 只能指定一个")
    try:
        period = parse_month(month) if month else parse_week(week) if week else None
    except ValueError:
        fail(f"无法识别的期间：{month or week}（月份写作 2025-06，周写作 2025-W25）")
    config = read_config(ctx)
    unit_name = None
    if unit is not None:
        found = config.unit_by_name(unit)
        if found is None:
            fail(f"配置中没有单位“{unit}”")
        unit_name = found.name
    with opened(config) as engine:
        rows = queries.submissions(engine, period=period, unit=unit_name)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        authors = "、".join(f"{a['unit'] or ''} {a['name']}".strip() for a in r["authors"]) or "（无撰稿人）"
        typer.echo(
            f"#{r['id']} {r['received_at'][:16].replace('T', ' ')} {r['unit'] or '（未登记单位）'}《{r['title']}》 {authors} [{_STATUS_NAMES.get(r['status'], r['status'])}]"
        )
    typer.echo(f"共 {len(rows)} 篇")


@mail_app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="演示数据目录")] = Path("var/demo"),
) -> None:
    """演示：内置邮件服务器 + 一个月的样例来稿，完整走一遍收取、登记、回执。"""
    import logging

    from rich.console import Console

    from daemon.demo import run_demo

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    raise typer.Exit(run_demo(out, Console(soft_wrap=True)))


@mail_app.command()
def backup(
    ctx: typer.Context,
    target: Annotated[Path, typer.Argument(help="备份目录（须为新目录或空目录）")],
) -> None:
    """备份数据库和原始邮件（守护进程运行时也可执行，结果一致）。"""
    from daemon.recovery import RecoveryError
    from daemon.recovery import backup as run_backup
    from daemon.runtime import system_clock

    with database(ctx) as (config, engine):
        try:
            report = run_backup(config, engine, target, now=system_clock())
        except RecoveryError as exc:
            fail(str(exc))
    typer.echo(f"已备份：数据库 {report.database}，原始邮件 {report.raw_files} 封（{target}）")


@mail_app.command()
def reprocess(ctx: typer.Context) -> None:
    """用已保存的原始邮件重建稿件登记（按当前解析规则和配置），不再给任何人发邮件。"""
    from daemon.progress import progress_bar
    from daemon.recovery import reprocess as run_reprocess
    from daemon.runtime import exclusive, runtime

    _setup_logging()
    config = read_config(ctx)
    with progress_bar() as progress, runtime(config, offline=True, quiet=True) as rt, exclusive(rt):
        report = run_reprocess(rt.poller.pipeline, progress=progress)
    typer.echo(
        f"已重建：邮件 {report.messages} 封（其中从原始邮件恢复 {report.restored} 封），"
        f"稿件 {report.submissions} 篇，采用记录迁移 {report.adoptions_moved} 条；未发送任何邮件"
    )
