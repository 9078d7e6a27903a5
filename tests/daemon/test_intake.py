"""Intake: a fetched batch's raw files, rows and cursor (daemon/intake.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import col, select

from daemon.config import parse_config
from daemon.db import session
from daemon.intake import Intake
from daemon.models import Message, MessageState, PollState
from daemon.rawstore import RawStore

RECEIVED = datetime(2025, 6, 16, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
MAILBOX = {"account": "pjyjjbgs@163.com", "folder": "INBOX", "uidvalidity": 7}


def _intake(engine: Engine, tmp_path: Path) -> Intake:
    config = parse_config({"units": [{"name": "危化科"}]})
    return Intake(config=config, engine=engine, store=RawStore(tmp_path / "raw"), clock=lambda: RECEIVED)


def test_a_monday_backlog_batch_is_looked_up_once(engine: Engine, tmp_path: Path) -> None:
    """Twenty mails fetched after a weekend: one lookup of known UIDs for all twenty, one flush of
    their rows (PostgreSQL: one INSERT), in UID order, each `fetched` with its raw file stored, and
    the cursor past the last."""
    intake = _intake(engine, tmp_path)
    batch = [(uid, f"Subject: 第{uid}篇\r\n\r\n正文{uid}".encode(), RECEIVED) for uid in range(101, 121)]
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(" ".join(statement.split()[:1] + [w for w in statement.split() if w == "messages"]))

    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        rows = intake.store_batch(**MAILBOX, batch=batch)
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert statements.count("SELECT messages") == 1
    # SQLite runs the flush's INSERT row by row (its RETURNING keeps no order); PostgreSQL batches it.
    assert statements.count("INSERT messages") == (20 if engine.dialect.name == "sqlite" else 1)
    assert all(new for _, new in rows)
    with session(engine, readonly=True) as s:
        stored = s.exec(select(Message).order_by(col(Message.id))).all()
        cursor = s.exec(select(PollState)).one()
    assert [(m.id, m.uid, m.state) for m in stored] == [
        (row_id, uid, MessageState.FETCHED) for (row_id, _), (uid, _, _) in zip(rows, batch, strict=True)
    ]
    assert all(intake.store.get(m.sha256) == raw for m, (_, raw, _) in zip(stored, batch, strict=True))
    assert cursor.last_uid == 120


def test_uids_recorded_before_a_crash_keep_their_rows(engine: Engine, tmp_path: Path) -> None:
    """The daemon died after committing a batch but before flagging it on 163: fetched again with a
    new mail, the old UIDs come back with their old rows, not new, and only the new mail is added."""
    intake = _intake(engine, tmp_path)
    first = intake.store_batch(**MAILBOX, batch=[(5, b"Subject: a\r\n\r\na", RECEIVED), (6, b"b", RECEIVED)])
    again = intake.store_batch(
        **MAILBOX, batch=[(5, b"Subject: a\r\n\r\na", RECEIVED), (6, b"b", RECEIVED), (9, b"c", RECEIVED)]
    )
    assert again[:2] == [(first[0][0], False), (first[1][0], False)]
    assert again[2][1] is True
    with session(engine, readonly=True) as s:
        assert s.exec(select(sa.func.count()).select_from(Message)).one() == 3
