"""The scoring tables: office entries, months imported from spreadsheets, solicitations (约稿).

Adoptions live in `daemon.models` (since revision 0001); these two came with revision 0002.
Amounts are exact decimals (NUMERIC(10, 4)), like the scoring records they become.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from daemon.models import UTCDateTime


class Entry(SQLModel, table=True):
    """A score item the office entered (a bonus, a deduction, a fixed per-period item).

    `kind` names an item of the rule profile; `period` is any day of the month it counts in.
    Either a unit or a submission is named; `points` None means the profile's default.
    """

    __tablename__ = "office_entries"
    __table_args__ = (sa.Index("ix_office_entries_period", "period"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    period: date = Field(sa_type=sa.Date)
    unit_id: int | None = Field(default=None, foreign_key="units.id")
    submission_id: int | None = Field(default=None, foreign_key="submissions.id")
    person: str | None = None
    points: Decimal | None = Field(default=None, sa_type=sa.Numeric(10, 4))
    note: str = Field(default="", sa_type=sa.Text)
    created_by: str = ""
    created_at: datetime = Field(sa_type=UTCDateTime)


class History(SQLModel, table=True):
    """One unit's month before the system started: what the office's spreadsheet says."""

    __tablename__ = "history"
    __table_args__ = (sa.UniqueConstraint("unit_id", "month", name="uq_history_unit_id_month"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="units.id")
    month: date = Field(sa_type=sa.Date)  # the first day of the month
    submitted: int
    # {"channel name": count}, in the column order of the imported sheet.
    adoptions: dict[str, int] = Field(default_factory=dict, sa_type=sa.JSON)
    score: Decimal = Field(sa_type=sa.Numeric(10, 4))
    imported_at: datetime = Field(sa_type=UTCDateTime)


class Solicitation(SQLModel, table=True):
    """A commissioned topic (约稿, 三(二)1): due by the end of `deadline` from `units` (empty: all).

    Registered by `xinbao solicit add` (created_by "cli") or by an office 【约稿】 mail (created_by the
    office address, `source_message_row_id` that mail). Came with revision 0003.
    """

    __tablename__ = "solicitations"
    __table_args__ = (sa.Index("ix_solicitations_deadline", "deadline"),)

    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(sa_type=sa.Text)
    deadline: date = Field(sa_type=sa.Date)
    units: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    created_by: str = ""
    source_message_row_id: int | None = Field(default=None, foreign_key="messages.id")
    created_at: datetime = Field(sa_type=UTCDateTime)


class SolicitationResponse(SQLModel, table=True):
    """A submission answering a solicitation, and the office's grade (0–3) less its deductions."""

    __tablename__ = "solicitation_responses"
    __table_args__ = (
        sa.UniqueConstraint(
            "solicitation_id", "submission_id", name="uq_solicitation_responses_solicitation_id_submission_id"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    solicitation_id: int = Field(foreign_key="solicitations.id")
    submission_id: int = Field(foreign_key="submissions.id")
    grade: int | None = None
    deduction: Decimal = Field(default=Decimal(0), sa_type=sa.Numeric(10, 4))
    note: str = Field(default="", sa_type=sa.Text)
    graded_by: str = ""
    graded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
