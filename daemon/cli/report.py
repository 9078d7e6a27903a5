"""`xinbao report year`: the year's figures for the bureau's annual report, optionally as .xlsx."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from daemon.cli.common import clock, database, fail, short_lived

report_app = typer.Typer(no_args_is_help=True, help="年度报表：政务信息工作年度数据")


@report_app.command("year")
def report_year(
    ctx: typer.Context,
    year: Annotated[str, typer.Argument(help="年份，如 2025")],
    out: Annotated[Path | None, typer.Option("--out", help="导出 Excel 文件（.xlsx）")] = None,
) -> None:
    """全年收到稿件、各渠道栏目稿件、各级采用（分单位及合计），以及先进集体、先进个人排名。"""
    with short_lived():
        _report_year(ctx, year=year, out=out)


def _report_year(ctx: typer.Context, *, year: str, out: Path | None) -> None:
    from daemon import year_report
    from daemon.db import session

    if not (year.isdigit() and len(year) == 4):
        fail(f"无法识别的年份：{year}（应写作 2025）")
    with database(ctx) as (config, engine), session(engine, readonly=True) as s:
        figures = year_report.year_figures(s, config, int(year), now=clock())
    typer.echo(year_report.describe(figures))
    if out is not None:
        year_report.export_xlsx(figures, out)
        typer.echo(f"已导出 {out}")
