"""Kill -9 at every state transition, restart, and check that nothing was lost or counted twice.

Each failpoint gets a fresh mailbox and ledger: `xinbao poll` runs with XINBAO_FAILPOINT set and
dies there (SIGKILL, no cleanup); then `xinbao poll` runs normally, twice. The invariants of
DESIGN.md's message lifecycle must hold whatever the point.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from daemon.db import make_engine, session
from daemon.failpoints import ENV, POINTS
from daemon.models import Message, MessageState, Submission, SubmissionStatus
from outbox.table import Outbox
from tests.daemon.bureau import Draft, config_data, environment, mail, parsed_mail, toml_for
from tests.dovecot import Account, dovecot_fixture, dovecot_server_fixture  # noqa: F401
from tests.smtpserver import SmtpServer

pytestmark = [pytest.mark.dovecot, pytest.mark.slow]

TERMINAL = {MessageState.ACKNOWLEDGED, MessageState.IGNORED, MessageState.REJECTED}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def _poll(
    config: Path, env: dict[str, str], failpoint: str | None = None
) -> subprocess.CompletedProcess[str]:
    run_env = {**os.environ, **env}
    run_env.pop(ENV, None)
    if failpoint:
        run_env[ENV] = failpoint
    return subprocess.run(
        [sys.executable, "-m", "daemon.cli", "--config", str(config), "poll"],
        env=run_env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def _mailbox(dovecot: Account) -> dict[str, int]:
    """What publicists sent: one accepted, a duplicate, a rejected draft, an automatic reply."""
    signed = Draft("危化企业专项检查")
    dovecot.append(mail("危化科", signed, message_id="<c1@163.com>"))
    dovecot.append(mail("危化科", signed, message_id="<c2@163.com>", subject="重发"))
    dovecot.append(
        mail("危化科", Draft("汛期值班", signoff=("撰稿人：危化科 王强",)), message_id="<c3@163.com>")
    )
    dovecot.append(
        mail("危化科", subject="自动回复：回执", extra_headers=[("Auto-Submitted", "auto-replied")])
    )
    # Per outcome: what the ledger must end with.
    return {"accepted": 1, "duplicate": 1, "rejected": 1, "ignored": 1}


@pytest.mark.parametrize("point", POINTS)
def test_a_crash_at_any_point_loses_nothing_and_counts_nothing_twice(
    point: str, tmp_path: Path, dovecot: Account, smtp: SmtpServer, db_url: str
) -> None:
    """SIGKILL at `point`, then two normal passes: every message ends once, every reply goes once."""
    expected = _mailbox(dovecot)
    config = tmp_path / "config.toml"
    config.write_text(toml_for(config_data(tmp_path, dovecot, smtp, db_url=db_url)), encoding="utf-8")
    env = environment(dovecot)

    crashed = _poll(config, env, point)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    for _ in range(2):
        done = _poll(config, env)
        assert done.returncode == 0, done.stderr

    engine = make_engine(db_url)
    with session(engine) as s:
        messages = list(s.exec(select(Message)))
        subs = list(s.exec(select(Submission)))
        outbox = list(s.exec(select(Outbox)))
    engine.dispose()
    # Every mailbox message: exactly one row, in a terminal state, its raw bytes kept, server told.
    assert len(messages) == len(dovecot.messages()) == 4
    assert all(m.state in TERMINAL and m.server_done for m in messages)
    assert all((tmp_path / "raw").rglob(m.sha256) for m in messages)
    assert Counter(m.outcome for m in messages) == expected
    # Submissions = distinct drafts: one accepted, its copy a duplicate, one rejected.
    assert Counter(s.status for s in subs) == {
        SubmissionStatus.ACCEPTED: 1,
        SubmissionStatus.DUPLICATE: 1,
        SubmissionStatus.REJECTED: 1,
    }
    # Each reply queued once and sent; none to the automatic mail; at most one delivery per
    # Message-ID, but for the documented window after the SMTP server's 250.
    assert len(outbox) == 3
    assert all(o.state == "sent" for o in outbox)
    delivered = Counter(str(parsed_mail(r.raw)["Message-ID"]) for r in smtp.received)
    assert set(delivered) == {o.message_id for o in outbox}
    allowed = 2 if point == "relay_sent" else 1
    assert max(delivered.values()) <= allowed
