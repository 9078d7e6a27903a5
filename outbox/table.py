"""The durable outbox table: one row per message to send, written in the transaction that caused it.

A row holds the complete RFC 5322 message rendered at enqueue time, so what the relay sends is
exactly what the caller decided, whatever changes later in templates or config. The unique `key`
(`kind|period|recipient`) makes enqueueing idempotent: a notice for a period is never generated
twice, and a message processed again after a crash finds its receipt already queued.
"""

from __future__ import annotations

import importlib
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import Field, SQLModel

from daemon.models import UTCDateTime

# Row states. `ambiguous` is reserved for operator tooling: the relay itself never writes it, it
# resends a row whose lease expired in `sending` as-is (see outbox/relay.py).
PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
AMBIGUOUS = "ambiguous"
STATES = (PENDING, SENDING, SENT, FAILED, AMBIGUOUS)


class Outbox(SQLModel, table=True):
    """One outgoing message; the relay claims it (`sending`), sends it, then marks it `sent`."""

    __tablename__ = "outbox"
    __table_args__ = (
        sa.UniqueConstraint("key", name="uq_outbox_key"),
        sa.Index("ix_outbox_state", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str  # kind|period|recipient
    kind: str
    recipient: str
    message_id: str
    subject: str
    raw: bytes = Field(sa_type=sa.LargeBinary)
    state: str = PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = None
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # messages.id of the mail that caused this one; the migration adds the foreign key, because
    # daemon/models.py cannot be imported here without a cycle.
    cause_message_row_id: int | None = Field(default=None, foreign_key="messages.id")


# The Core table, for the relay's UPDATE statements (a typed handle on `Outbox.__table__`).
OUTBOX_TABLE: sa.Table = SQLModel.metadata.tables["outbox"]


@cache
def _insert_new(dialect: str) -> sa.Insert:
    """INSERT … ON CONFLICT (key) DO NOTHING RETURNING id, for "sqlite" or "postgresql".

    Built once per dialect, values bound per call (a receipt is queued for almost every message);
    the dialect's module is imported on first use (PostgreSQL's costs ~50 ms at every start
    otherwise). RETURNING, not rowcount: psycopg may report -1 for an INSERT … ON CONFLICT.
    """
    insert = importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert
    statement: sa.Insert = (
        insert(OUTBOX_TABLE).on_conflict_do_nothing(index_elements=["key"]).returning(OUTBOX_TABLE.c.id)
    )
    return statement


def raw_bytes(message: EmailMessage) -> bytes:
    """The message as it goes on the wire: CRLF line ends, non-ASCII headers RFC 2047 encoded."""
    return message.as_bytes(policy=SMTP)


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    recipient: str,
    message: EmailMessage,
    now: datetime,
    cause_message_row_id: int | None = None,
) -> bool:
    """Queue `message` for `recipient` unless a row with `key` exists; True when a row was added.

    Runs inside the caller's transaction and never commits: the row becomes visible exactly when
    what caused it does.
    """
    values = {
        "key": key,
        "kind": kind,
        "recipient": recipient,
        "message_id": str(message["Message-ID"] or ""),
        "subject": str(message["Subject"] or ""),
        "raw": raw_bytes(message),
        "state": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "cause_message_row_id": cause_message_row_id,
    }
    # Flush first so the cause row (perhaps still pending in this session) exists for the FK.
    session.flush()
    table = OUTBOX_TABLE
    conn = session.connection()
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        return conn.execute(_insert_new(dialect), values).first() is not None
    # Any other backend: a savepoint keeps the caller's transaction usable after the conflict.
    try:
        with conn.begin_nested():
            conn.execute(sa.insert(table).values(**values))
    except sa.exc.IntegrityError:
        return False
    return True
