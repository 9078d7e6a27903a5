"""The `xinbao` command line (DESIGN.md, "Command line"); imports are lazy to keep start-up fast."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from daemon.config import Config
    from daemon.poller import PassReport
    from parsers.types import ParsedMessage
    from scoring.periods import Period
    from scoring.results import Line, MonthScores, YearScores

# rich_markup_mode=None: plain help text, without importing rich's markup machinery at start-up.
app = typer.Typer(
    add_completion=False, no_args_is_help=True, rich_markup_mode=None, help="信报：政务信息报送邮件处理系统"
)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="配置文件路径（默认 ./config.toml）")]


@app.callback()
def _root(ctx: typer.Context, config: ConfigOpt = None) -> None:
    ctx.obj = config


def main() -> None:
    """Entry point: user errors exit 1 with a Chinese message and no traceback."""
    from daemon.config import ConfigError

    try:
        app()
    except ConfigError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        sys.exit(1)


def _config(ctx: typer.Context) -> Config:
    from daemon.config import load_config

    return load_config(ctx.obj)


@app.command()
def parse(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="邮件文件（.eml）", exists=True, dir_okay=False)],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON（DESIGN.md 约定的格式）")] = False,
) -> None:
    """离线解析一封邮件，显示将要记录的内容（不连数据库、不联网）。"""
    from daemon.guard import Guard
    from parsers.archive import rar_backend_available

    config = _config(ctx)
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


@app.command()
def init(ctx: typer.Context) -> None:
    """创建或升级数据库，并按配置同步单位和宣传员。"""
    from daemon.runtime import open_database

    config = _config(ctx)
    engine = open_database(config)
    engine.dispose()
    typer.echo(
        f"数据库已就绪：{config.database_url()}（单位 {len(config.units)} 个，宣传员 {len(config.publicists)} 名）"
    )


@app.command()
def poll(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="输出调试日志")] = False,
) -> None:
    """处理一轮：收取并处理所有新邮件，发出待发邮件，然后退出。"""
    from daemon.progress import progress_bar
    from daemon.runtime import exclusive, runtime

    _setup_logging(verbose)
    config = _config(ctx)
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


@app.command()
def run(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="输出调试日志")] = False,
) -> None:
    """以守护进程方式运行（前台）：定时收取、处理、回复；SIGTERM 或 Ctrl-C 安全退出。"""
    from daemon.runtime import exclusive, runtime
    from daemon.service import serve

    _setup_logging(verbose)
    config = _config(ctx)
    with runtime(config) as rt, exclusive(rt):
        serve(rt)


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """显示最近一次成功收信时间、待处理、隔离和待发邮件数量。"""
    from daemon.runtime import open_database
    from daemon.status import describe_status, read_status

    config = _config(ctx)
    engine = open_database(config)
    try:
        info = read_status(engine, config)
    finally:
        engine.dispose()
    typer.echo(json.dumps(info, ensure_ascii=False, indent=2) if as_json else describe_status(info))


_STATUS_NAMES = {
    "accepted": "已采纳计数",
    "rejected": "退稿",
    "duplicate": "重复",
    "unverified": "待核实",
    "replaced": "已被更正稿替代",
}


@app.command()
def submissions(
    ctx: typer.Context,
    month: Annotated[str | None, typer.Option("--month", help="月份，如 2025-06")] = None,
    week: Annotated[str | None, typer.Option("--week", help="ISO 周，如 2025-W25")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="单位名称")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """列出已登记的稿件。"""
    from daemon import queries
    from daemon.runtime import open_database
    from scoring.periods import parse_month, parse_week

    if month and week:
        raise typer.BadParameter("--month 和 --week 只能指定一个")
    try:
        period = parse_month(month) if month else parse_week(week) if week else None
    except ValueError:
        _fail(f"无法识别的期间：{month or week}（月份写作 2025-06，周写作 2025-W25）")
    config = _config(ctx)
    unit_name = None
    if unit is not None:
        found = config.unit_by_name(unit)
        if found is None:
            _fail(f"配置中没有单位“{unit}”")
        unit_name = found.name
    engine = open_database(config)
    try:
        rows = queries.submissions(engine, period=period, unit=unit_name)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        authors = "、".join(f"{a['unit'] or ''} {a['name']}".strip() for a in r["authors"]) or "（无撰稿人）"
        typer.echo(
            f"#{r['id']} {r['received_at'][:16].replace('T', ' ')} {r['unit'] or '（未登记单位）'}《{r['title']}》 {authors} [{_STATUS_NAMES.get(r['status'], r['status'])}]"
        )
    typer.echo(f"共 {len(rows)} 篇")


def _fail(message: str) -> NoReturn:
    print(f"错误：{message}", file=sys.stderr)
    raise typer.Exit(1)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="演示数据目录")] = Path("var/demo"),
) -> None:
    """演示：内置邮件服务器 + 一个月的样例来稿，完整走一遍收取、登记、回执。"""
    import logging

    from rich.console import Console

    from daemon.demo import run_demo

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    raise typer.Exit(run_demo(out, Console(soft_wrap=True)))


@app.command()
def backup(
    ctx: typer.Context,
    target: Annotated[Path, typer.Argument(help="备份目录（须为新目录或空目录）")],
) -> None:
    """备份数据库和原始邮件（守护进程运行时也可执行，结果一致）。"""
    from daemon.recovery import RecoveryError
    from daemon.recovery import backup as run_backup
    from daemon.runtime import open_database, system_clock

    config = _config(ctx)
    engine = open_database(config)
    try:
        report = run_backup(config, engine, target, now=system_clock())
    except RecoveryError as exc:
        _fail(str(exc))
    finally:
        engine.dispose()
    typer.echo(f"已备份：数据库 {report.database}，原始邮件 {report.raw_files} 封（{target}）")


@app.command()
def reprocess(ctx: typer.Context) -> None:
    """用已保存的原始邮件重建稿件登记（按当前解析规则和配置），不再给任何人发邮件。"""
    from daemon.progress import progress_bar
    from daemon.recovery import reprocess as run_reprocess
    from daemon.runtime import exclusive, runtime

    _setup_logging()
    config = _config(ctx)
    with progress_bar() as progress, runtime(config, offline=True, quiet=True) as rt, exclusive(rt):
        report = run_reprocess(rt.poller.pipeline, progress=progress)
    typer.echo(
        f"已重建：邮件 {report.messages} 封（其中从原始邮件恢复 {report.restored} 封），"
        f"稿件 {report.submissions} 篇，采用记录迁移 {report.adoptions_moved} 条；未发送任何邮件"
    )


# Scoring (DESIGN.md "Command line"): scores, quota, adopt, entry, ledger import.


def _period_arg(month: str | None, year: str | None) -> tuple[Period | None, int | None]:
    from scoring.periods import parse_month

    if bool(month) == bool(year):
        _fail("请指定 --month YYYY-MM 或 --year YYYY 之一")
    if month:
        try:
            return parse_month(month), None
        except ValueError:
            _fail(f"无法识别的月份：{month}（应写作 2025-06）")
    assert year is not None
    if not (year.isdigit() and len(year) == 4):
        _fail(f"无法识别的年份：{year}（应写作 2025）")
    return None, int(year)


def _warn(warnings: Iterable[str]) -> None:
    import logging

    for w in dict.fromkeys(warnings):
        logging.getLogger("xinbao.scoring").warning(w)


@app.command()
def scores(
    ctx: typer.Context,
    month: Annotated[str | None, typer.Option("--month", help="月份，如 2025-06")] = None,
    year: Annotated[str | None, typer.Option("--year", help="年份，如 2025")] = None,
    people: Annotated[bool, typer.Option("--people", help="同时列出个人得分")] = False,
    unit: Annotated[str | None, typer.Option("--unit", help="只显示这个单位的明细")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON（DESIGN.md 约定的格式）")] = False,
) -> None:
    """各单位（及个人）的月度或年度得分，每一分都列明计分规则、稿件和撰稿人。"""
    from daemon.db import session
    from daemon.runtime import open_database, system_clock
    from daemon.scoring_io import load_calendar, load_profile, load_records, year_period
    from scoring.engine import score_month, score_year
    from scoring.periods import day_of

    period, year_number = _period_arg(month, year)
    config = _config(ctx)
    if unit is not None and config.unit_by_name(unit) is None:
        _fail(f"配置中没有单位“{unit}”")
    profile, calendar = load_profile(config), load_calendar(config)
    the_year = day_of(period.start).year if period is not None else year_number
    assert the_year is not None
    engine = open_database(config)
    try:
        with session(engine, readonly=True) as s:
            records = load_records(s, config, year_period(the_year))
    finally:
        engine.dispose()
    common: dict[str, Any] = {
        "units": records.units,
        "submissions": records.submissions,
        "adoptions": records.adoptions,
        "entries": records.entries,
        "history": records.history,
        "profile": profile,
        "calendar": calendar,
        "now": system_clock(),
        **records.extra(),
    }
    result = (
        score_month(month=period, **common) if period is not None else score_year(year=the_year, **common)
    )
    _warn((*result.warnings, *calendar.warnings))
    if as_json:
        typer.echo(json.dumps(result.to_json(people=people), ensure_ascii=False, indent=2))
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


@app.command()
def quota(
    ctx: typer.Context,
    week: Annotated[str | None, typer.Option("--week", help="ISO 周，如 2025-W25")] = None,
    month: Annotated[str | None, typer.Option("--month", help="月份，如 2025-06")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON（DESIGN.md 约定的格式）")] = False,
) -> None:
    """各单位在一周（或一月）内的报送篇数与任务数，按中国工作日历计算。"""
    from daemon.db import session
    from daemon.runtime import open_database
    from daemon.scoring_io import load_calendar, load_profile, load_records
    from scoring.periods import parse_month, parse_week
    from scoring.quota import month_quota, week_quota

    if bool(week) == bool(month):
        _fail("请指定 --week YYYY-Www 或 --month YYYY-MM 之一")
    try:
        period = parse_week(week) if week else parse_month(month or "")
    except ValueError:
        _fail(f"无法识别的期间：{week or month}（周写作 2025-W25，月份写作 2025-06）")
    config = _config(ctx)
    profile, calendar = load_profile(config), load_calendar(config)
    engine = open_database(config)
    try:
        with session(engine, readonly=True) as s:
            records = load_records(s, config, period)
    finally:
        engine.dispose()
    measure = week_quota if week else month_quota
    report = measure(
        **{"week" if week else "month": period},
        units=records.units,
        submissions=records.submissions,
        profile=profile,
        calendar=calendar,
    )
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
app.add_typer(adopt_app, name="adopt")
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
        _fail(f"无法识别的日期：{value}（应写作 2025-06-20）")


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
    from daemon.runtime import open_database, system_clock
    from scoring.periods import day_of

    if level is None and channel is None:
        _fail("请用 --level 或 --channel 指定采用渠道")
    config = _config(ctx)
    now = system_clock()
    when = _adoption_date(on) or now
    engine = open_database(config)
    try:
        with session(engine) as s:
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
        _fail(str(exc))
    finally:
        engine.dispose()
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
    from daemon.runtime import open_database, system_clock

    config = _config(ctx)
    engine = open_database(config)
    try:
        with session(engine) as s:
            revoked = revoke(s, submission_id=submission_id, level=level, channel=channel, now=system_clock())
    except AdoptionError as exc:
        _fail(str(exc))
    finally:
        engine.dispose()
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
    from daemon.adoptions import AdoptionError, import_file
    from daemon.db import session
    from daemon.runtime import open_database, system_clock

    config = _config(ctx)
    when = _adoption_date(on)
    engine = open_database(config)
    try:
        with session(engine) as s:
            result = import_file(
                s, config, file, level=level, channel=channel, adopted_at=when, now=system_clock()
            )
    except AdoptionError as exc:
        _fail(str(exc))
    finally:
        engine.dispose()
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


ledger_app = typer.Typer(no_args_is_help=True, help="稿件台账：导入系统启用前的历史数据")
app.add_typer(ledger_app, name="ledger")


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
    from daemon.runtime import open_database, system_clock

    config = _config(ctx)
    engine = open_database(config)
    try:
        with session(engine) as s:
            report = import_history(s, config, file, now=system_clock())
    except HistoryError as exc:
        _fail(str(exc))
    finally:
        engine.dispose()
    typer.echo(
        f"已导入历史数据：新增 {report.added} 条，更新 {report.updated} 条（{'、'.join(report.months) or '无'}）"
    )
    if report.ignored_columns:
        typer.echo(f"以下列未导入：{'、'.join(report.ignored_columns)}")


entry_app = typer.Typer(no_args_is_help=True, help="办公室登记的计分项目：加分、扣分、固定分项")
app.add_typer(entry_app, name="entry")


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
    from daemon.runtime import open_database, system_clock
    from daemon.scoring_io import load_profile
    from scoring.periods import day_of, month_of, parse_month
    from scoring.split import fmt

    if (unit is None) == (submission is None):
        _fail("请指定 --unit 或 --submission 之一")
    amount = None
    if points is not None:
        try:
            amount = Decimal(points)
        except InvalidOperation:
            _fail(f"分值“{points}”不是数字")
        if not amount.is_finite() or amount != amount.quantize(Decimal("0.0001")) or abs(amount) >= 10**6:
            _fail(f"分值“{points}”无效（最多四位小数）")
    now = system_clock()
    try:
        period = parse_month(month) if month else month_of(now)
    except ValueError:
        _fail(f"无法识别的月份：{month}（应写作 2025-06）")
    first = day_of(period.start)
    config = _config(ctx)
    profile = load_profile(config)
    engine = open_database(config)
    try:
        with session(engine) as s:
            sub = s.get(Submission, submission) if submission is not None else None
            if submission is not None and sub is None:
                _fail(f"没有编号为 {submission} 的稿件")
            row = ledger.unit_by_name_or_alias(s, unit) if unit else None
            if unit is not None and row is None:
                _fail(f"配置中没有单位“{unit}”")
            home = row or (s.get(Unit, sub.unit_id) if sub is not None and sub.unit_id is not None else None)
            rules = profile.rules(period, home.group if home else "")
            item = rules.item(kind)
            if item is None:
                known = "、".join(f"{i.kind}（{i.label}）" for i in rules.items)
                _fail(f"计分规则中没有计分项目“{kind}”（现有：{known}）")
            if amount is None and item.points is None:
                _fail(f"“{item.label}”没有默认分值，请用 --points 指定")
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
    finally:
        engine.dispose()
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
    from daemon.runtime import open_database
    from scoring.periods import day_of, parse_month
    from scoring.results import format_points, points_json

    try:
        period = parse_month(month) if month else None
    except ValueError:
        _fail(f"无法识别的月份：{month}（应写作 2025-06）")
    config = _config(ctx)
    engine = open_database(config)
    try:
        with session(engine, readonly=True) as s:
            units = {u.id: u.name for u in s.exec(select(Unit))}
            stmt = select(Entry).order_by(col(Entry.period), col(Entry.id))
            if period is not None:
                stmt = stmt.where(Entry.period >= day_of(period.start), Entry.period < day_of(period.end))
            entries = list(s.exec(stmt))
    finally:
        engine.dispose()
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


# Notices (二、(四) 定期通报): notice monthly, remind weekly. The daemon sends both on schedule.

notice_app = typer.Typer(no_args_is_help=True, help="月度通报：政务信息报送及采用情况通报")
app.add_typer(notice_app, name="notice")
remind_app = typer.Typer(no_args_is_help=True, help="报送提醒：每周未完成报送任务的单位")
app.add_typer(remind_app, name="remind")


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
    from daemon import notices
    from daemon.db import session
    from daemon.runtime import open_database, system_clock
    from scoring.periods import parse_month

    try:
        period = parse_month(month)
    except ValueError:
        _fail(f"无法识别的月份：{month}（应写作 2025-06）")
    config = _config(ctx)
    engine = open_database(config)
    now = system_clock()
    added = 0
    try:
        with session(engine) as s:
            notice = notices.build_notice_for(s, config, period, now=now, correct=correct)
            if send:
                added = notices.queue_notice(s, config, notice, now=now)
    except notices.NoticeError as exc:
        _fail(str(exc))
    finally:
        engine.dispose()
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
    from daemon.runtime import open_database, system_clock
    from scoring.periods import parse_week, week_of

    now = system_clock()
    try:
        period = parse_week(week) if week else week_of(now)
    except ValueError:
        _fail(f"无法识别的周：{week}（应写作 2025-W25）")
    config = _config(ctx)
    schedule = notices.schedule_from_config(config)
    engine = open_database(config)
    try:
        with session(engine) as s:
            if send:
                added = notices.queue_weekly(
                    s, config, period, now=now, remind_publicists=schedule.remind_publicists
                )
            else:
                mail = render_weekly(s, config, period, now=now)
    finally:
        engine.dispose()
    if send:
        typer.echo(
            f"{period.label} 报送提醒已加入发送队列 {added} 封" if added else "该周提醒此前已加入发送队列"
        )
    else:
        typer.echo(f"主题：{mail.subject}\n\n{mail.text}")


if __name__ == "__main__":
    main()


# Solicitations (约稿, 三(二)1): register, list, grade. Office mail with 【约稿】 registers too.
solicit_app = typer.Typer(no_args_is_help=True, help="约稿：登记约稿、查看回复、评分")
app.add_typer(solicit_app, name="solicit")


@solicit_app.command("add")
def solicit_add(
    ctx: typer.Context,
    topic: Annotated[str, typer.Option("--topic", help="约稿主题")],
    deadline: Annotated[str, typer.Option("--deadline", help="截止日期，如 2025-07-10")],
    unit: Annotated[
        list[str] | None, typer.Option("--unit", help="约稿单位（可多次指定；不指定为全部单位）")
    ] = None,
) -> None:
    """登记一项约稿，并通知约稿单位的宣传员。"""
    from daemon import solicitations
    from daemon.db import session
    from daemon.runtime import open_database, system_clock

    try:
        request = solicitations.Request(
            topic.strip(), solicitations.parse_deadline(deadline), tuple(unit or ())
        )
    except solicitations.SolicitationError as exc:
        _fail(str(exc))
    if not request.topic:
        _fail("约稿主题不能为空")
    config = _config(ctx)
    engine = open_database(config)
    try:
        with session(engine) as s:
            try:
                sol = solicitations.register(s, config, request, created_by="cli", now=system_clock())
            except solicitations.SolicitationError as exc:
                _fail(str(exc))
            sol_id, units = sol.id, "、".join(sol.units) or "全部单位"
    finally:
        engine.dispose()
    typer.echo(
        f"已登记约稿 #{sol_id}：《{request.topic}》，截止{request.deadline.isoformat()}，约稿单位：{units}"
    )


@solicit_app.command("list")
def solicit_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON")] = False,
) -> None:
    """列出约稿及各单位的回复（回复编号用于评分）。"""
    from sqlmodel import col, select

    from daemon.db import session
    from daemon.models import Submission, Unit
    from daemon.models_scoring import Solicitation, SolicitationResponse
    from daemon.runtime import open_database
    from scoring.results import points_json

    config = _config(ctx)
    engine = open_database(config)
    try:
        with session(engine, readonly=True) as s:
            units = {u.id: u.name for u in s.exec(select(Unit))}
            rows: list[dict[str, Any]] = []
            for sol in s.exec(
                select(Solicitation).order_by(col(Solicitation.deadline), col(Solicitation.id))
            ):
                responses: list[dict[str, Any]] = []
                for r in s.exec(
                    select(SolicitationResponse)
                    .where(SolicitationResponse.solicitation_id == sol.id)
                    .order_by(col(SolicitationResponse.id))
                ):
                    sub = s.get(Submission, r.submission_id)
                    responses.append(
                        {
                            "id": r.id,
                            "submission_id": r.submission_id,
                            "unit": units.get(sub.unit_id) if sub else None,
                            "title": sub.title if sub else "",
                            "received_at": sub.received_at.isoformat() if sub else None,
                            "grade": r.grade,
                            "deduction": points_json(r.deduction),
                            "note": r.note,
                        }
                    )
                rows.append(
                    {
                        "id": sol.id,
                        "topic": sol.topic,
                        "deadline": sol.deadline.isoformat(),
                        "units": list(sol.units),
                        "created_by": sol.created_by,
                        "responses": responses,
                    }
                )
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        units_text = "、".join(row["units"]) or "全部单位"
        typer.echo(f"#{row['id']} 《{row['topic']}》 截止{row['deadline']} 约稿单位：{units_text}")
        for resp in row["responses"]:
            graded = "未评分" if resp["grade"] is None else f"评{resp['grade']}分，扣{resp['deduction']}分"
            typer.echo(
                f"  回复 #{resp['id']} 稿件 #{resp['submission_id']} {resp['unit']}《{resp['title']}》 {graded}"
            )
    typer.echo(f"共 {len(rows)} 项约稿")


@solicit_app.command("grade")
def solicit_grade(
    ctx: typer.Context,
    response: Annotated[int, typer.Argument(help="回复编号（见 xinbao solicit list）")],
    score: Annotated[int, typer.Option("--score", help="评分：0、1、2、3")],
    deduct: Annotated[str, typer.Option("--deduct", help="扣分（错别字、内容不符等）")] = "0",
    note: Annotated[str, typer.Option("--note", help="说明")] = "",
) -> None:
    """为约稿回复评分（0至3分），可扣分。"""
    from decimal import Decimal, InvalidOperation

    from daemon import solicitations
    from daemon.db import session
    from daemon.runtime import open_database, system_clock

    try:
        amount = Decimal(deduct)
    except InvalidOperation:
        _fail(f"扣分“{deduct}”不是数字")
    config = _config(ctx)
    engine = open_database(config)
    try:
        with session(engine) as s:
            try:
                solicitations.grade(
                    s, response, score=score, deduct=amount, note=note, by="cli", now=system_clock()
                )
            except solicitations.SolicitationError as exc:
                _fail(str(exc))
    finally:
        engine.dispose()
    typer.echo(f"已评分：回复 #{response} 评{score}分" + (f"，扣{deduct}分" if amount else ""))


report_app = typer.Typer(no_args_is_help=True, help="年度报表：政务信息工作年度数据")
app.add_typer(report_app, name="report")


@report_app.command("year")
def report_year(
    ctx: typer.Context,
    year: Annotated[str, typer.Argument(help="年份，如 2025")],
    out: Annotated[Path | None, typer.Option("--out", help="导出 Excel 文件（.xlsx）")] = None,
) -> None:
    """全年收到稿件、各渠道栏目稿件、各级采用（分单位及合计），以及先进集体、先进个人排名。"""
    from daemon import year_report
    from daemon.db import session
    from daemon.runtime import open_database, system_clock

    if not (year.isdigit() and len(year) == 4):
        _fail(f"无法识别的年份：{year}（应写作 2025）")
    config = _config(ctx)
    engine = open_database(config)
    try:
        with session(engine, readonly=True) as s:
            figures = year_report.year_figures(s, config, int(year), now=system_clock())
    finally:
        engine.dispose()
    typer.echo(year_report.describe(figures))
    if out is not None:
        year_report.export_xlsx(figures, out)
        typer.echo(f"已导出 {out}")
