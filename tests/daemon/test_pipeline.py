"""Recording a group of messages in one commit, each in a savepoint of its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from daemon import replies
from daemon.models import Message, MessageState, Submission
from daemon.runtime import runtime
from outbox.table import Outbox
from tests.daemon.bureau import CST, Clock, Draft, config_for, environment, mail
from tests.dovecot import Account, dovecot_fixture, dovecot_server_fixture  # noqa: F401
from tests.smtpserver import SmtpServer

pytestmark = pytest.mark.dovecot
RECEIVED = datetime(2025, 6, 20, 9, 30, tzinfo=CST)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def test_a_recording_that_fails_midway_in_a_group_undoes_only_itself(
    tmp_path: Path,
    dovecot: Account,
    smtp: SmtpServer,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Three drafts of 危化科 are recorded in one commit; the second one's receipt fails after its
    submission was written. The first and third count and are answered; the second leaves no
    submission and no receipt behind and waits, `fetched`, for the next attempt."""
    for k, v in environment(dovecot).items():
        monkeypatch.setenv(k, v)
    raws = [
        mail(
            "危化科",
            Draft(f"第{i}篇稿件", body=[f"第{i}篇正文，内容各不相同。"]),
            message_id=f"<g{i}@163.com>",
        )
        for i in (1, 2, 3)
    ]
    real_answer = replies.answer

    def answer(s: Session, config: Any, msg: Message, parsed: Any, *args: Any, **kwargs: Any) -> None:
        if "第2篇" in parsed.subject:
            raise RuntimeError("receipt template broke")
        real_answer(s, config, msg, parsed, *args, **kwargs)

    monkeypatch.setattr(replies, "answer", answer)
    config = config_for(tmp_path, dovecot, smtp, db_url=db_url)
    with runtime(config, clock=Clock(), offline=True) as rt:
        pipeline = rt.poller.pipeline
        rows = rt.poller.intake.store_batch(
            account="pjyjjbgs@163.com",
            folder="INBOX",
            uidvalidity=1,
            batch=[(uid, raw, RECEIVED) for uid, raw in enumerate(raws, 1)],
        )
        ids = pipeline.claim_many([row_id for row_id, _ in rows])
        with Session(rt.engine, expire_on_commit=False) as s:
            for row_id, raw in zip(ids, raws, strict=True):
                try:
                    pipeline.record(row_id, pipeline.analyse(raw).parsed, s=s)
                except RuntimeError as exc:
                    pipeline.fail(row_id, str(exc), s=s)
            s.commit()
        with Session(rt.engine) as s:
            titles = sorted(sub.title for sub in s.exec(select(Submission)))
            states = [(m.state, m.last_error) for m in s.exec(select(Message).order_by(col(Message.id)))]
            receipts = s.exec(select(Outbox.key)).all()
    assert titles == ["第1篇稿件", "第3篇稿件"]
    assert states == [
        (MessageState.RECORDED, None),
        (MessageState.FETCHED, "receipt template broke"),
        (MessageState.RECORDED, None),
    ]
    assert len(receipts) == 2
    assert not any("g2@163.com" in key for key in receipts)
