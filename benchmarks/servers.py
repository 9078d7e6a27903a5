"""The mail servers the benchmarks run against: Debian Dovecot and aiosmtpd on loopback, as the tests
start them (tests/dovecot.py, tests/smtpserver.py), and the test bureau's config pointed at them.

aiosmtpd runs in a child process (`SmtpSink`): the provider's SMTP server is another machine, and
in the benchmark's own process its Python would take the GIL from the daemon's threads."""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from daemon.config import Config, parse_config
from tests.daemon.bureau import config_data, environment, toml_for
from tests.dovecot import DOVECOT, Account, DovecotServer
from tests.smtpserver import SmtpServer

# Receipts per publicist and day; the benchmarks send far more than the real cap of 20 allows.
BENCH_DAILY_CAP = 1_000_000


@dataclass
class Servers:
    """A running Dovecot with one account, an SMTP server, and a scratch directory for runs."""

    dovecot: DovecotServer
    account: Account
    smtp: SmtpSink
    scratch: Path

    def config_data(self, run_dir: Path, *, limits: dict[str, Any] | None = None) -> dict[str, Any]:
        """The test bureau's config for a fresh database under `run_dir`, uncapped receipts."""
        data = config_data(run_dir, self.account, cast(SmtpServer, self.smtp))
        data["smtp"]["daily_cap_per_recipient"] = BENCH_DAILY_CAP
        if limits:
            data["limits"] = limits
        return data

    def config(self, run_dir: Path, *, limits: dict[str, Any] | None = None) -> Config:
        return parse_config(self.config_data(run_dir, limits=limits), path=run_dir / "config.toml")

    def write_config(self, run_dir: Path, *, limits: dict[str, Any] | None = None) -> Path:
        """A config.toml for `xinbao --config` (bureau.toml_for, plus the [limits] table)."""
        data = self.config_data(run_dir, limits=limits)
        text = toml_for(data)
        if limits:
            text += "[limits]\n" + "".join(f"{k} = {v}\n" for k, v in limits.items())
        path = run_dir / "config.toml"
        path.write_text(text, encoding="utf-8")
        return path

    def environment(self) -> dict[str, str]:
        """The passwords the config names, for a `xinbao` subprocess."""
        return {**os.environ, **environment(self.account)}

    def fresh_mailbox(self) -> Account:
        """Switch to an account no run has used (an empty INBOX with its own UIDVALIDITY)."""
        self.account.close()
        user, password = self.dovecot.add_user()
        self.account = Account(self.dovecot, user, password)
        return self.account

    def append(self, messages: Iterable[bytes]) -> tuple[int, int]:
        """APPEND every message to INBOX, many per command (RFC 3502 MULTIAPPEND, which Dovecot
        offers: one round trip per ~32 MB instead of per message); returns (count, total bytes)."""
        count = total = 0
        batch: list[bytes] = []
        for raw in messages:
            batch.append(raw)
            count, total = count + 1, total + len(raw)
            if sum(map(len, batch)) > 32 * 1024 * 1024 or len(batch) >= 200:
                self.account.client().multiappend("INBOX", batch)
                batch = []
        if batch:
            self.account.client().multiappend("INBOX", batch)
        return count, total


class SmtpSink:
    """The test SMTP server (tests/smtpserver.py) in a child process; counts what it accepts."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.host = "127.0.0.1"
        self.port = 0
        self._port = ctx.Value("i", 0)
        self._count = ctx.Value("q", 0)
        self._ready = ctx.Event()
        self._stop = ctx.Event()
        self._process = ctx.Process(
            target=_serve_smtp, args=(self._port, self._count, self._ready, self._stop), daemon=True
        )

    def __enter__(self) -> SmtpSink:
        self._process.start()
        if not self._ready.wait(30):
            raise RuntimeError("the SMTP sink did not start")
        self.port = int(self._port.value)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._process.join(10)

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def received(self) -> int:
        """Messages accepted so far."""
        return int(self._count.value)


def _serve_smtp(port: Any, count: Any, ready: Any, stop: Any) -> None:
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    server = SmtpServer()

    async def counting(smtp: Any, session: Any, envelope: Any) -> str:
        with count.get_lock():
            count.value += 1
        return "250 Mail OK queued"

    # aiosmtpd looks its hooks up on the handler object, so an instance attribute replaces it.
    server.handler.handle_DATA = counting  # type: ignore[method-assign,assignment]
    with server:
        port.value = server.port
        ready.set()
        stop.wait()


@contextmanager
def servers() -> Iterator[Servers]:
    """Dovecot and aiosmtpd on loopback for the length of the block; the passwords in os.environ."""
    if not DOVECOT.exists():
        raise SystemExit("benchmarks need Debian's dovecot-imapd (/usr/sbin/dovecot is absent)")
    # aiosmtpd warns about its own deprecated attribute on every login; not ours to fix.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    scratch = Path(tempfile.mkdtemp(prefix="xinbao-bench-"))
    # Dovecot's unprivileged mail user must be able to enter its directory.
    scratch.chmod(0o755)
    (scratch / "dovecot").mkdir(mode=0o755)
    dovecot = DovecotServer(scratch / "dovecot")
    dovecot.start()
    try:
        user, password = dovecot.add_user()
        with SmtpSink() as smtp:
            found = Servers(dovecot, Account(dovecot, user, password), smtp, scratch)
            saved = dict(os.environ)
            os.environ.update(environment(found.account))
            try:
                yield found
            finally:
                os.environ.clear()
                os.environ.update(saved)
                found.account.close()
    finally:
        dovecot.stop()
        shutil.rmtree(scratch, ignore_errors=True)


def run_dir(srv: Servers, name: str, *, root: Path | None = None) -> Path:
    """An empty directory for one run's database and raw store (under `root`, e.g. a tmpfs, if given)."""
    path = (root or srv.scratch) / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
