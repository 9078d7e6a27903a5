"""The daemon as the office runs it: `xinbao run` and `xinbao poll` as processes, and the failures
a long-running service meets (a poison message, a mailbox that stops answering, two passes at once)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from daemon.db import make_engine, session
from daemon.models import Message, MessageState, Submission
from daemon.pipeline import Pipeline
from daemon.poller import ALERT_AFTER_FAILURES
from daemon.runtime import runtime
from outbox.table import Outbox
from tests.daemon.bureau import (
    OFFICE,
    Clock,
    Draft,
    config_data,
    config_for,
    environment,
    mail,
    text_of,
    toml_for,
)
from tests.dovecot import Account, dovecot_fixture, dovecot_server_fixture  # noqa: F401
from tests.imap163 import Imap163Proxy, imap163_fixture  # noqa: F401
from tests.pgserver import PgServer
from tests.smtpserver import SmtpServer

pytestmark = pytest.mark.dovecot


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def _cli(config: Path, env: dict[str, str], *args: str) -> list[str]:
    return [sys.executable, "-m", "daemon.cli", "--config", str(config), *args]


def _wait_for(predicate: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


@pytest.mark.parametrize("through_163", [False, True], ids=["dovecot-idle", "163-polling"])
def test_the_daemon_answers_new_mail_and_stops_cleanly_on_sigterm(
    through_163: bool,
    tmp_path: Path,
    dovecot: Account,
    smtp: SmtpServer,
    imap163: Imap163Proxy,
) -> None:
    """Mail arriving while the daemon runs is answered within its poll interval; SIGTERM ends it."""
    port = imap163.port if through_163 else None
    config = tmp_path / "config.toml"
    config.write_text(toml_for(config_data(tmp_path, dovecot, smtp, imap_port=port)), encoding="utf-8")
    env = {**os.environ, **environment(dovecot)}
    daemon = subprocess.Popen(_cli(config, env, "run"), env=env, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)
        dovecot.append(mail("危化科", Draft("危化企业专项检查")))
        _wait_for(lambda: len(smtp.received) == 1)
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=30)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.communicate()
    assert daemon.returncode == 0, stderr
    assert "daemon stopped" in stderr
    assert "已登记" in text_of(smtp.received[0].raw)


def test_two_polls_at_once_process_each_message_once(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer
) -> None:
    """An operator runs `xinbao poll` while cron does too: one waits for the other, nothing twice."""
    for i in range(6):
        dovecot.append(mail("危化科", Draft(f"第{i + 1}篇", body=[f"第{i + 1}篇的正文内容。"])))
    config = tmp_path / "config.toml"
    config.write_text(toml_for(config_data(tmp_path, dovecot, smtp)), encoding="utf-8")
    env = {**os.environ, **environment(dovecot)}
    polls = [
        subprocess.Popen(_cli(config, env, "poll"), env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    for p in polls:
        p.communicate(timeout=180)
        assert p.returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'xinbao.db'}")
    with session(engine) as s:
        assert len(s.exec(select(Message)).all()) == 6
        assert len(s.exec(select(Submission)).all()) == 6
    engine.dispose()
    assert len(smtp.received) == 6


def test_a_message_that_keeps_failing_becomes_poison_and_the_office_is_told(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message whose recording always fails is tried three times, then set aside; mail behind it flows."""
    for k, v in environment(dovecot).items():
        monkeypatch.setenv(k, v)
    dovecot.append(mail("危化科", Draft("会出错的稿件")))
    original = Pipeline.record

    def record(self: Pipeline, row_id: int, parsed: object, verdict: object = None, **kw: Any) -> object:
        if "会出错" in getattr(parsed, "subject", ""):
            raise RuntimeError("simulated bug")
        return original(self, row_id, parsed, verdict, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Pipeline, "record", record)
    with runtime(config_for(tmp_path, dovecot, smtp), clock=Clock(), workers=1) as rt:
        for _ in range(4):
            rt.poller.run_pass()
        dovecot.append(mail("危化科", Draft("正常的稿件")))
        rt.poller.run_pass()
        with session(rt.engine) as s:
            states = sorted(m.state for m in s.exec(select(Message)))
    assert states == [MessageState.ACKNOWLEDGED, MessageState.POISON]
    to_office = [r for r in smtp.received if r.rcpt_tos == (OFFICE,)]
    assert len(to_office) == 1
    assert "多次处理失败" in text_of(to_office[0].raw)


def test_the_office_is_alerted_once_when_the_mailbox_keeps_failing(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A revoked 授权码: every pass fails; the office hears of it once, not every minute."""
    for k, v in environment(dovecot).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("XINBAO_TEST_IMAP_PASSWORD", "revoked")
    with runtime(config_for(tmp_path, dovecot, smtp), clock=Clock(), workers=1) as rt:
        reports = [rt.poller.run_pass() for _ in range(ALERT_AFTER_FAILURES + 2)]
        with session(rt.engine) as s:
            alerts = s.exec(select(Outbox).where(Outbox.kind == "alert")).all()
    assert all(r.error for r in reports)
    assert len(alerts) == 1
    assert "授权码" in text_of(alerts[0].raw)


class _Log:
    """A process's stderr, read line by line as it comes, so a test can wait for a line."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert proc.stderr is not None
        self._stream = stream = proc.stderr
        self._thread = threading.Thread(target=lambda: self.lines.extend(stream), daemon=True)
        self._thread.start()

    def has(self, text: str) -> bool:
        return any(text in line for line in list(self.lines))

    def join(self) -> str:
        """All of it, once the process has ended."""
        self._thread.join(timeout=30)
        self._stream.close()
        return "".join(self.lines)


@pytest.mark.postgres
def test_two_daemons_on_postgresql_one_works_the_other_takes_over(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, pg_server: PgServer
) -> None:
    """A standby daemon waits on the advisory lock; when the active one stops, it carries on."""
    url = pg_server.url(pg_server.create_database())
    config = tmp_path / "config.toml"
    config.write_text(toml_for(config_data(tmp_path, dovecot, smtp, db_url=url)), encoding="utf-8")
    env = {**os.environ, **environment(dovecot)}
    dovecot.append(mail("危化科", Draft("第1篇", body=["第1篇正文。"])))
    first = subprocess.Popen(_cli(config, env, "run"), env=env, stderr=subprocess.PIPE, text=True)
    first_log = _Log(first)
    _wait_for(lambda: len(smtp.received) == 1)  # the first daemon is working: it holds the lock
    second = subprocess.Popen(_cli(config, env, "run"), env=env, stderr=subprocess.PIPE, text=True)
    second_log = _Log(second)
    try:
        _wait_for(lambda: second_log.has("holds the mailbox lock"))
        for i in range(1, 3):
            dovecot.append(mail("危化科", Draft(f"第{i + 1}篇", body=[f"第{i + 1}篇正文。"])))
        _wait_for(lambda: len(smtp.received) == 3)
        assert not second_log.has("pass: fetched")  # the standby has done nothing yet
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=30)
        dovecot.append(mail("危化科", Draft("接班后的稿件", body=["接班后的正文。"])))
        _wait_for(lambda: len(smtp.received) == 4)
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    finally:
        for p in (first, second):
            if p.poll() is None:
                p.kill()
                p.wait()
        logs = first_log.join(), second_log.join()
    assert first.returncode == 0, logs[0]
    assert second.returncode == 0, logs[1]
    assert second_log.has("pass: fetched 1")
    engine = make_engine(url)
    with session(engine) as s:
        assert len(s.exec(select(Submission)).all()) == 4
    engine.dispose()
    assert len({r.raw for r in smtp.received}) == 4
