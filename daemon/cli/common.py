"""What the command modules share: the config from --config, the ledger database, user errors."""

from __future__ import annotations

import gc
import sys
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Engine

    from daemon.config import Config


def read_config(ctx: typer.Context) -> Config:
    """The config named by the root `--config` option (the root callback keeps its path in ctx.obj)."""
    from daemon.config import load_config

    return load_config(ctx.obj)


@contextmanager
def opened(config: Config) -> Iterator[Engine]:
    """The ledger database at the newest schema, disposed when the block ends."""
    from daemon.db import open_database

    engine = open_database(config)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def database(ctx: typer.Context) -> Iterator[tuple[Config, Engine]]:
    """The config and its ledger database, for commands that need nothing from the config before."""
    config = read_config(ctx)
    with opened(config) as engine:
        yield config, engine


def fail(message: str) -> NoReturn:
    """A user error: the Chinese message on stderr, exit status 1."""
    print(f"错误：{message}", file=sys.stderr)
    raise typer.Exit(1)


def clock() -> datetime:
    """Now, as daemon.runtime's system_clock has it, without importing the mail stack with it."""
    return datetime.now(UTC)


@contextmanager
def short_lived() -> Iterator[None]:
    """scoring.engine.collector_paused for a whole one-shot command (scores, notices, reports),
    freezing at the end what is still alive.

    Such a command loads the database stack and builds a province's records, lines and documents
    in a second or two, none of it in garbage cycles. Frozen (gc.freeze), what survives is not
    walked by the first collection after the command nor by the one at interpreter exit either:
    at province scale collecting and exiting took ~7% of the instructions of `notice monthly`,
    now under 0.5%. The daemon (`xinbao run`) never comes here and keeps collecting.
    """
    from scoring.engine import collector_paused

    with collector_paused():
        yield
    if gc.isenabled():
        gc.freeze()
