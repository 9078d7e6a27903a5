"""Storage faults: the database locked by another program, a full disk, PostgreSQL restarted in the
middle of a transaction. Each time the message stays on the server unflagged, nothing is half
written, and a later pass records it exactly once."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import select

from daemon import replies
from daemon.db import session
from daemon.models import Message, MessageState, Submission
from daemon.runtime import runtime
from tests.daemon.bureau import Clock, Draft, config_for, environment, mail
from tests.dovecot import Account, dovecot_fixture, dovecot_server_fixture  # noqa: F401
from tests.pgserver import PG_BIN, PgServer
from tests.smtpserver import SmtpServer

pytestmark = pytest.mark.dovecot


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, dovecot: Account) -> None:
    for k, v in environment(dovecot).items():
        monkeypatch.setenv(k, v)


def _recorded_once(rt: Any, dovecot: Account, uid: int) -> None:
    with session(rt.engine) as s:
        assert [m.state for m in s.exec(select(Message))] == [MessageState.ACKNOWLEDGED]
        assert len(s.exec(select(Submission)).all()) == 1
    assert b"XinbaoDone" in dovecot.flags(uid)


def test_a_database_locked_by_another_program_delays_the_message_and_loses_nothing(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer
) -> None:
    """A backup tool holds an exclusive lock on the ledger past the busy timeout: the pass gives up,
    the message stays unflagged on the server, and the next pass records it once."""
    config = config_for(tmp_path, dovecot, smtp)
    with runtime(config, clock=Clock(), workers=1) as rt:
        uid = dovecot.append(mail("危化科", Draft("危化企业专项检查")))
        blocker = sqlite3.connect(str(tmp_path / "xinbao.db"), isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        released = threading.Timer(12.0, blocker.rollback)
        released.start()
        try:
            blocked = rt.poller.run_pass()
        finally:
            released.cancel()
            blocker.rollback()
            blocker.close()
        assert blocked.error is not None
        assert "database" in blocked.error
        assert b"XinbaoDone" not in dovecot.flags(uid)
        rt.poller.run_pass()
        _recorded_once(rt, dovecot, uid)
    assert len(smtp.received) == 1


def test_a_full_disk_keeps_the_message_on_the_server_until_there_is_room(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer
) -> None:
    """The ledger cannot grow (SQLite's max_page_count stands in for a full disk): nothing is
    recorded or flagged; once there is room again the message is recorded once."""
    config = config_for(tmp_path, dovecot, smtp)
    with runtime(config, clock=Clock(), workers=1) as rt:
        uid = dovecot.append(mail("危化科", Draft("危化企业专项检查", body=["正文" * 4000])))

        def full(dbapi: sqlite3.Connection, _record: object) -> None:
            pages = dbapi.execute("PRAGMA page_count").fetchone()[0]
            dbapi.execute(f"PRAGMA max_page_count = {pages}")

        event.listen(rt.engine, "connect", full)
        rt.engine.dispose()
        report = rt.poller.run_pass()
        assert report.error is not None
        assert b"XinbaoDone" not in dovecot.flags(uid)
        event.remove(rt.engine, "connect", full)
        rt.engine.dispose()
        rt.poller.run_pass()
        _recorded_once(rt, dovecot, uid)


@pytest.mark.postgres
def test_postgresql_restarted_mid_transaction_loses_nothing(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database server restarts while a message's submissions are being written: that
    transaction is gone whole; the message is recorded once on the next pass."""
    url = pg_server.url(pg_server.create_database())
    config = config_for(tmp_path, dovecot, smtp, db_url=url)
    original = replies.answer
    restarted: list[bool] = []

    def answer(*args: Any, **kw: Any) -> Any:
        # Inside the message's transaction: its submissions are written, not yet committed.
        if not restarted:
            restarted.append(True)
            _restart(pg_server)
        return original(*args, **kw)

    monkeypatch.setattr(replies, "answer", answer)
    with runtime(config, clock=Clock(), workers=1) as rt:
        uid = dovecot.append(mail("危化科", Draft("危化企业专项检查")))
        rt.poller.run_pass()
        assert b"XinbaoDone" not in dovecot.flags(uid)
        rt.poller.run_pass()
        _recorded_once(rt, dovecot, uid)
    assert len(smtp.received) == 1


def _restart(server: PgServer) -> None:
    """Restart the cluster as an administrator would (`pg_ctl restart -m fast`): open
    transactions are cut off and rolled back. Not `immediate`: the scratch cluster runs with
    synchronous_commit off, so a crash there could also lose what was committed just before."""
    options = f"-p {server.port} -k {server.root} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(server.data), "-l", str(server.root / "server.log")]
    restart = [*pg_ctl, "-m", "fast", "-o", options, "-w", "-t", "60", "restart"]
    subprocess.run(server._cmd(*restart), check=True, capture_output=True)
