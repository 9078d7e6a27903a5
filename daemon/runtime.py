"""Wires the daemon's parts from config: database, raw store, guard, pipeline, mailbox, relay."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from daemon import replies, scoring_io
from daemon.config import Config
from daemon.db import open_database as open_database  # imported from here too
from daemon.db import session
from daemon.guard import Guard
from daemon.identify import directory
from daemon.intake import Intake
from daemon.lock import mailbox_lock
from daemon.mailbox import Mailbox
from daemon.pipeline import Pipeline
from daemon.poller import Poller
from daemon.rawstore import RawStore
from outbox.relay import Relay
from parsers.authresults import Verdict
from scoring.periods import SHANGHAI

log = logging.getLogger(__name__)


def system_clock() -> datetime:
    return datetime.now(UTC)


def _relay_alert(config: Config, engine: Engine, clock: Callable[[], datetime]) -> Callable[[str, str], None]:
    """The relay's alert hook: an office alert by mail, once per kind and day."""

    def alert(kind: str, text: str) -> None:
        now = clock()
        with session(engine) as s:
            replies.alert_office(
                s,
                config,
                topic=f"relay|{kind}|{now.astimezone(SHANGHAI).date()}",
                title="邮件发送出现问题",
                text=text,
                details=[],
                now=now,
            )

    return alert


def _verifier(config: Config) -> Callable[[bytes, str], Verdict]:
    from daemon.verify import verify_sender

    return lambda raw, address: verify_sender(raw, from_addr=address, cfg=config.verify)


@dataclass
class Runtime:
    config: Config
    engine: Engine
    store: RawStore
    guard: Guard
    poller: Poller

    def close(self) -> None:
        self.guard.close()
        if self.poller.mailbox is not None:
            self.poller.mailbox.close()
        self.engine.dispose()


@contextmanager
def runtime(
    config: Config,
    *,
    clock: Callable[[], datetime] = system_clock,
    offline: bool = False,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    quiet: bool = False,
) -> Iterator[Runtime]:
    """Everything a pass needs; `offline` leaves out IMAP and SMTP (process stored mail only)."""
    from daemon.convert import LibreOfficeConverter
    from parsers.archive import rar_backend_available

    # A broken [scoring] section stops start-up here, not every message later.
    scoring_io.load_profile(config)
    engine = open_database(config)
    store = RawStore(config.resolve(config.database.raw_store))
    workers = workers or min(2, os.cpu_count() or 1)
    guard = Guard(
        limits=config.limits,
        workers=workers,
        rar=rar_backend_available(),
        convert=LibreOfficeConverter(timeout=config.limits.convert_timeout).available(),
    )
    pipeline = Pipeline(
        config=config,
        engine=engine,
        store=store,
        parse=guard.parse,
        directory=directory(config.units, config.publicists),
        clock=clock,
        quiet=quiet,
        verify=None if offline else _verifier(config),
    )
    mailbox = relay = None
    if not offline:
        mailbox = Mailbox(config.mailbox, password=config.mailbox.password())
        relay = Relay(
            engine,
            config.smtp,
            password=config.smtp.password(),
            worker_id=f"{socket.gethostname()}:{os.getpid()}",
            clock=clock,
            alert=_relay_alert(config, engine, clock),
        )
    poller = Poller(
        config=config,
        engine=engine,
        intake=Intake(config=config, engine=engine, store=store, clock=clock),
        pipeline=pipeline,
        mailbox=mailbox,
        relay=relay,
        clock=clock,
        workers=workers,
        progress=progress,
    )
    rt = Runtime(config=config, engine=engine, store=store, guard=guard, poller=poller)
    try:
        yield rt
    finally:
        rt.close()


@contextmanager
def exclusive(rt: Runtime, *, wait: float | None = None) -> Iterator[None]:
    """The one-process-per-mailbox lock around a pass or the daemon's life."""
    cfg = rt.config
    with mailbox_lock(
        rt.engine,
        account=cfg.mailbox.user,
        folder=cfg.mailbox.folder,
        lock_dir=cfg.resolve(cfg.database.raw_store).parent,
        wait=wait,
    ):
        yield
