"""The plain records scoring reads: what the ledger knows, handed in by a thin query layer.

Scoring never touches SQL; daemon/ builds these from the database (and tests build them by hand).
All datetimes are aware; amounts are Decimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class UnitRecord:
    """A configured unit: its name, its group (rules may differ per group) and display order."""

    name: str
    group: str
    order: int = 0


@dataclass(frozen=True, slots=True)
class AuthorRecord:
    """One 撰稿人 of a submission, resolved to a unit (None when it could not be resolved)."""

    name: str
    unit: str | None


@dataclass(frozen=True, slots=True)
class SubmissionRecord:
    """A draft on record. Only `accepted` ones score; the rest are listed for explanation."""

    id: int
    unit: str | None  # the sending unit
    title: str
    received_at: datetime  # IMAP INTERNALDATE: decides the week and month
    status: str  # accepted | rejected | duplicate | unverified | replaced
    category: str = "regular"  # regular | research | experience | a column name
    chars: int = 0
    authors: tuple[AuthorRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class DraftTally:
    """`count` plain accepted drafts handed in as one figure: for a month scored only for its sum.

    The drafts were sent by `unit` on `day` (Asia/Shanghai) and written by authors of the units in
    `authors` (in the drafts' author order; None: unresolved; empty: no authors). "Plain": of a
    category that is no article and no column of the profile, and named by no adoption, entry or
    solicitation response, so that only the per-draft points and the quota counts see them.
    `score_month` takes them for the months before (and the week after) the month it scores;
    daemon/records_io.py builds them for a province-scale year.
    """

    unit: str | None
    day: date
    authors: tuple[str | None, ...]
    count: int


@dataclass(frozen=True, slots=True)
class AdoptionRecord:
    """A submission taken up by a channel of the profile (e.g. 市政府政务信息, provincial)."""

    id: int
    submission_id: int
    channel: str
    adopted_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OfficeEntry:
    """A score item the office enters by hand: a fixed per-period item, a bonus or a deduction.

    `kind` names an item of the profile (e.g. "column_material", "leader_instruction", "late");
    `points` overrides the profile's default when given. Either a unit or a submission is named.
    """

    id: int
    kind: str
    period: date  # any day of the period the item belongs to
    unit: str | None = None
    submission_id: int | None = None
    person: str | None = None
    points: Decimal | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    """A month before the system started, imported from the office's spreadsheet."""

    unit: str
    month: date  # the first day of the month
    submitted: int
    adoptions: tuple[tuple[str, int], ...]  # (channel, count)
    score: Decimal


@dataclass(frozen=True, slots=True)
class SolicitationRecord:
    """A commissioned topic (约稿, 三(二)1): due by the end of `deadline` from `units` (empty: all)."""

    id: int
    topic: str
    deadline: date
    units: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ResponseRecord:
    """A draft answering a solicitation, and the office's grade (None: not graded yet)."""

    id: int
    solicitation_id: int
    submission_id: int
    grade: int | None = None
    deduction: Decimal = Decimal(0)  # a magnitude, subtracted from the grade
    note: str = ""
