"""The `xinbao` command line (DESIGN.md, "Command line"); imports are lazy to keep start-up fast."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, help="信报：政务信息报送邮件处理系统")

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
