"""The `xinbao` command line (DESIGN.md, "Command line"); imports are lazy to keep start-up fast.

One module per topic registers its commands on its own Typer app; `app` gathers them here, in the
order `xinbao --help` lists them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from daemon.cli.adopt import adopt_app
from daemon.cli.ledger import entry_app, ledger_app
from daemon.cli.mail import describe, describe_pass, mail_app
from daemon.cli.notice import notice_app, remind_app
from daemon.cli.report import report_app
from daemon.cli.scores import describe_scores, scores_app
from daemon.cli.solicit import solicit_app

__all__ = ["app", "describe", "describe_pass", "describe_scores", "main"]

# rich_markup_mode=None: plain help text, without importing rich's markup machinery at start-up.
# The sub-apps inherit it.
app = typer.Typer(
    add_completion=False, no_args_is_help=True, rich_markup_mode=None, help="信报：政务信息报送邮件处理系统"
)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="配置文件路径（默认 ./config.toml）")]


@app.callback()
def _root(ctx: typer.Context, config: ConfigOpt = None) -> None:
    ctx.obj = config


# Apps added without a name contribute their commands directly to `xinbao`.
app.add_typer(mail_app)
app.add_typer(scores_app)
app.add_typer(adopt_app, name="adopt")
app.add_typer(ledger_app, name="ledger")
app.add_typer(entry_app, name="entry")
app.add_typer(notice_app, name="notice")
app.add_typer(remind_app, name="remind")
app.add_typer(solicit_app, name="solicit")
app.add_typer(report_app, name="report")


def main() -> None:
    """Entry point: user errors exit 1 with a Chinese message and no traceback."""
    try:
        app()
    except Exception as exc:
        # A ConfigError exists only once daemon.config has been imported, and `xinbao --help` never
        # imports it (~20 ms with parsers.types): look the class up instead of importing it here.
        config = sys.modules.get("daemon.config")
        if config is None or not isinstance(exc, config.ConfigError):
            raise
        print(f"错误：{exc}", file=sys.stderr)
        sys.exit(1)
