"""The ledger's tables (SQLModel over SQLAlchemy 2.x); DESIGN.md "Message lifecycle" names the states.

The `outbox` table lives in `outbox/table.py` on the same metadata; `daemon.db` imports it so the
metadata is complete whenever a database is used. Importing it here would be circular.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware datetime, stored as UTC, returned aware (UTC) on SQLite and PostgreSQL alike.

    SQLite has no time zone type, so values go in as naive UTC text; naive input is refused
    everywhere, because a naive time here would silently be read as UTC.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: the ledger stores aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _str_enum(enum: type[StrEnum], length: int) -> sa.Enum:
    # A plain VARCHAR holding the values (not a PostgreSQL ENUM type, no CHECK): a new state
    # then needs no schema migration; `validate_strings` still refuses unknown values on write.
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        validate_strings=True,
        values_callable=lambda e: [m.value for m in e],
    )


class MessageState(StrEnum):
    """Where one mailbox message is in its lifecycle."""

    FETCHED = "fetched"  # raw bytes stored durably, row committed
    RECORDED = "recorded"  # submissions and their outbox rows written in one transaction
    ACKNOWLEDGED = "acknowledged"  # the server-side flag/move is done
    REJECTED = "rejected"  # answered with a rejection
    IGNORED = "ignored"  # automatic mail: never answered
    QUARANTINED = "quarantined"  # could not be processed; kept and reported to the office
    POISON = "poison"  # failed too often; never blocks the queue


class SubmissionStatus(StrEnum):
    """How a submission counts."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    UNVERIFIED = "unverified"  # the sender is not a registered publicist
    REPLACED = "replaced"  # a rejected draft that a corrected resubmission replaced


class Message(SQLModel, table=True):
    """One mailbox message: a UID is a cursor, the SHA-256 of the raw bytes is the identity."""

    __tablename__ = "messages"
    __table_args__ = (
        sa.UniqueConstraint(
            "account", "folder", "uidvalidity", "uid", name="uq_messages_account_folder_uidvalidity_uid"
        ),
        sa.Index("ix_messages_sha256", "sha256"),
        sa.Index("ix_messages_state", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account: str
    folder: str
    uidvalidity: int = Field(sa_type=sa.BigInteger)
    uid: int = Field(sa_type=sa.BigInteger)
    sha256: str = Field(sa_type=sa.String(64))
    size: int
    internaldate: datetime = Field(sa_type=UTCDateTime)
    state: MessageState = Field(sa_type=_str_enum(MessageState, 16))
    outcome: str | None = None
    server_done: bool = False
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    message_id: str | None = None
    from_addr: str | None = None
    subject: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Unit(SQLModel, table=True):
    """A unit from config; units removed from config are deactivated, never deleted."""

    __tablename__ = "units"
    __table_args__ = (sa.UniqueConstraint("name", name="uq_units_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str
    group: str = "department"
    aliases: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    active: bool = True


class Person(SQLModel, table=True):
    """A person of a unit: a publicist from config, or an author named in a sign-off."""

    __tablename__ = "people"
    __table_args__ = (sa.UniqueConstraint("name", "unit_id", name="uq_people_name_unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str
    unit_id: int = Field(foreign_key="units.id")
    email: str | None = None
    is_publicist: bool = False
    phone: str | None = None
    wechat: str | None = None


class Submission(SQLModel, table=True):
    """One draft received from a unit."""

    __tablename__ = "submissions"
    __table_args__ = (
        sa.Index("ix_submissions_unit_id_received_at", "unit_id", "received_at"),
        sa.Index("ix_submissions_text_hash", "text_hash"),
        sa.Index("ix_submissions_message_row_id", "message_row_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_row_id: int = Field(foreign_key="messages.id")
    unit_id: int | None = Field(default=None, foreign_key="units.id")
    sender: str
    title: str
    text_hash: str = Field(sa_type=sa.String(64))
    chars: int
    images: int = 0
    first_reviewer: str | None = None
    second_reviewer: str | None = None
    status: SubmissionStatus = Field(sa_type=_str_enum(SubmissionStatus, 16))
    category: str = "regular"
    source: str
    received_at: datetime = Field(sa_type=UTCDateTime)
    replaces_id: int | None = Field(default=None, foreign_key="submissions.id")
    created_at: datetime = Field(sa_type=UTCDateTime)


class SubmissionAuthor(SQLModel, table=True):
    """An author of a submission, as written and as resolved; points split evenly among them."""

    __tablename__ = "submission_authors"
    __table_args__ = (sa.Index("ix_submission_authors_person_id", "person_id"),)

    submission_id: int = Field(foreign_key="submissions.id", primary_key=True)
    position: int = Field(primary_key=True)
    person_id: int | None = Field(default=None, foreign_key="people.id")
    name: str
    unit_text: str
    unit_id: int | None = Field(default=None, foreign_key="units.id")


class ProblemRecord(SQLModel, table=True):
    """A parser or pipeline problem, kept with its message (and its draft, when it has one)."""

    __tablename__ = "problems"
    __table_args__ = (sa.Index("ix_problems_message_row_id", "message_row_id"),)

    id: int | None = Field(default=None, primary_key=True)
    message_row_id: int = Field(foreign_key="messages.id")
    submission_id: int | None = Field(default=None, foreign_key="submissions.id")
    code: str
    message: str = Field(sa_type=sa.Text)
    source: str = ""


class Adoption(SQLModel, table=True):
    """A submission taken up by a channel; revoking keeps the row."""

    __tablename__ = "adoptions"
    __table_args__ = (sa.Index("ix_adoptions_submission_id", "submission_id"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submissions.id")
    channel: str
    level: str
    adopted_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str = Field(default="", sa_type=sa.Text)
    created_by: str = ""
    created_at: datetime = Field(sa_type=UTCDateTime)


class PollState(SQLModel, table=True):
    """The IMAP cursor of one mailbox folder and the health of its last polls."""

    __tablename__ = "poll_state"

    account: str = Field(primary_key=True)
    folder: str = Field(primary_key=True)
    uidvalidity: int | None = Field(default=None, sa_type=sa.BigInteger)
    last_uid: int = Field(default=0, sa_type=sa.BigInteger)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    consecutive_failures: int = 0
