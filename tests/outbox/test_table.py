"""The outbox table: idempotent enqueue inside the caller's transaction, aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from outbox.compose import compose
from outbox.table import PENDING, Outbox, enqueue
from tests.outbox.conftest import Clock

CST = timezone(timedelta(hours=8))


def _receipt(key: str, to: str = "wangqiang.wh@163.com") -> EmailMessage:
    return compose(
        sender="pjyjjbgs@163.com",
        sender_name="盘锦市应急管理局办公室",
        to=to,
        subject="【已收到】《危化科开展汛期专项检查》——信息报送回执",
        text="王强同志：\n\n　　局办公室已收到您报送的信息稿件。\n",
        html=None,
        key=key,
        domain="163.com",
        date=datetime(2025, 6, 20, 9, 30, tzinfo=CST),
    )


def test_same_key_twice_queues_one_row(sessions: sessionmaker[Session], clock: Clock) -> None:
    """A message processed again after a crash finds its receipt already queued: one row, one mail."""
    key = "receipt|msg-17|wangqiang.wh@163.com"
    with sessions.begin() as s:
        assert enqueue(
            s, key=key, kind="receipt", recipient="wangqiang.wh@163.com", message=_receipt(key), now=clock()
        )
    with sessions.begin() as s:
        again = enqueue(
            s, key=key, kind="receipt", recipient="wangqiang.wh@163.com", message=_receipt(key), now=clock()
        )
        assert again is False
    with sessions() as s:
        rows = s.execute(sa.select(Outbox)).scalars().all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.state, row.attempts, row.kind) == (PENDING, 0, "receipt")
    assert row.next_attempt_at == clock()
    assert row.created_at == clock()
    assert row.next_attempt_at.tzinfo is not None


def test_enqueue_leaves_the_commit_to_the_caller(sessions: sessionmaker[Session], clock: Clock) -> None:
    """When the pipeline's transaction rolls back (the submission was not recorded), no receipt remains."""
    key = "receipt|msg-18|wangqiang.wh@163.com"
    with sessions() as s:
        assert enqueue(
            s, key=key, kind="receipt", recipient="wangqiang.wh@163.com", message=_receipt(key), now=clock()
        )
        s.rollback()
    with sessions() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(Outbox)).scalar_one() == 0


def test_stored_message_is_the_wire_form(sessions: sessionmaker[Session], clock: Clock) -> None:
    """The row keeps the rendered message with CRLF line ends, its Message-ID and decoded subject."""
    key = "receipt|msg-19|lina.dw@163.com"
    message = _receipt(key, to="lina.dw@163.com")
    with sessions.begin() as s:
        enqueue(
            s,
            key=key,
            kind="receipt",
            recipient="lina.dw@163.com",
            message=message,
            now=clock(),
        )
    with sessions() as s:
        row = s.execute(sa.select(Outbox)).scalars().one()
    assert row.message_id == message["Message-ID"]
    assert row.subject == "【已收到】《危化科开展汛期专项检查》——信息报送回执"
    assert row.cause_message_row_id is None
    assert b"\r\n" in row.raw
    assert b"\n" not in row.raw.replace(b"\r\n", b"")
    parsed = message_from_bytes(row.raw, policy=policy.default)
    assert parsed["Subject"] == row.subject


def test_naive_datetimes_are_refused(sessions: sessionmaker[Session]) -> None:
    """A naive time would silently be read as UTC, eight hours off in Panjin: it is an error."""
    key = "receipt|msg-20|x@163.com"
    with sessions() as s, pytest.raises(sa.exc.StatementError, match="naive"):
        enqueue(
            s,
            key=key,
            kind="receipt",
            recipient="x@163.com",
            message=_receipt(key),
            now=datetime(2025, 6, 20, 9, 30),
        )


def test_times_come_back_in_utc(sessions: sessionmaker[Session]) -> None:
    """A time written in Beijing time is read back as the same instant, aware, in UTC."""
    key = "receipt|msg-21|x@163.com"
    beijing = datetime(2025, 6, 20, 9, 30, tzinfo=CST)
    with sessions.begin() as s:
        enqueue(s, key=key, kind="receipt", recipient="x@163.com", message=_receipt(key), now=beijing)
    with sessions() as s:
        row = s.execute(sa.select(Outbox)).scalars().one()
    assert row.created_at == beijing
    assert row.created_at.utcoffset() == timedelta(0)
    assert row.created_at.tzinfo is UTC
