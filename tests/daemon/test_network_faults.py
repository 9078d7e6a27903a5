"""The network as it is: an IMAP or SMTP server that stops answering, a link that trickles, a
connection reset in the middle of a response. No pass hangs, nothing is lost or half parsed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlmodel import select

from daemon.db import session
from daemon.models import Message, MessageState, Submission
from daemon.runtime import runtime
from outbox.table import Outbox
from tests.daemon.bureau import Clock, Draft, config_for, environment, mail
from tests.dovecot import Account, dovecot_fixture, dovecot_server_fixture  # noqa: F401
from tests.faultproxy import FaultProxy
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


def _outbox_states(rt: object) -> list[str]:
    """The receipts' states (an outage also queues an alert to the office, sent when it ends)."""
    with session(rt.engine) as s:  # type: ignore[attr-defined]
        return [o.state for o in s.exec(select(Outbox).where(Outbox.kind == "receipt"))]


def test_an_imap_server_that_stops_answering_times_out_and_the_next_pass_recovers(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer
) -> None:
    """The mailbox server accepts the connection and says nothing: the pass ends at the timeout."""
    dovecot.append(mail("危化科", Draft("危化企业专项检查")))
    with FaultProxy(dovecot.port, mode="blackhole") as hole:
        config = config_for(tmp_path, dovecot, smtp, imap_port=hole.port, timeout_seconds=1.0)
        with runtime(config, clock=Clock(), workers=1) as rt:
            report = rt.poller.run_pass()
            assert report.error is not None
            hole.mode = "pass"
            rt.poller.run_pass()
            rt.poller.run_pass()
            with session(rt.engine) as s:
                assert [m.state for m in s.exec(select(Message))] == [MessageState.ACKNOWLEDGED]
    assert len(smtp.received) == 1


def test_a_slow_link_still_delivers_the_whole_message(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer
) -> None:
    """A trickling line (200 KB/s) is slow, not broken: the draft arrives whole."""
    dovecot.append(mail("危化科", Draft("危化企业专项检查", photos=6)))
    with FaultProxy(dovecot.port, mode="slow", bytes_per_second=200_000) as slow:
        config = config_for(tmp_path, dovecot, smtp, imap_port=slow.port)
        with runtime(config, clock=Clock(), workers=1) as rt:
            rt.poller.run_pass()
            with session(rt.engine) as s:
                [sub] = s.exec(select(Submission)).all()
    assert sub.images == 6


def test_an_smtp_server_that_stops_answering_leaves_the_receipt_queued(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer
) -> None:
    """The SMTP server goes silent: the relay times out, the receipt waits and goes later, once."""
    dovecot.append(mail("危化科", Draft("危化企业专项检查")))
    with FaultProxy(smtp.port, mode="blackhole") as hole:
        config = config_for(tmp_path, dovecot, smtp)
        config = replace(config, smtp=replace(config.smtp, port=hole.port, timeout_seconds=1.0))
        clock = Clock()
        with runtime(config, clock=clock, workers=1) as rt:
            rt.poller.run_pass()
            assert _outbox_states(rt) == ["pending"]
            hole.mode = "pass"
            clock.advance(minutes=10)
            rt.poller.run_pass()
            assert _outbox_states(rt) == ["sent"]
    assert len([r for r in smtp.received if r.rcpt_tos == ("wangqiang.wh@163.com",)]) == 1


def test_an_smtp_connection_reset_mid_conversation_is_retried_not_lost(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer
) -> None:
    """The connection to the SMTP server is reset after its greeting: retried later, sent once."""
    dovecot.append(mail("危化科", Draft("危化企业专项检查")))
    with FaultProxy(smtp.port, mode="reset", after_bytes=200) as flaky:
        config = config_for(tmp_path, dovecot, smtp)
        config = replace(config, smtp=replace(config.smtp, port=flaky.port, timeout_seconds=5.0))
        clock = Clock()
        with runtime(config, clock=clock, workers=1) as rt:
            rt.poller.run_pass()
            assert _outbox_states(rt) == ["pending"]
            flaky.mode = "pass"
            clock.advance(minutes=10)
            rt.poller.run_pass()
            assert _outbox_states(rt) == ["sent"]
    assert len([r for r in smtp.received if r.rcpt_tos == ("wangqiang.wh@163.com",)]) == 1
