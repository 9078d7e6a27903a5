"""Ledger records for scoring tests, built as the daemon's query layer hands them in."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal

from scoring.calendar import WorkCalendar
from scoring.engine import score_month, score_year
from scoring.periods import SHANGHAI, parse_month
from scoring.profile import Profile, load_packaged_profile
from scoring.records import (
    AdoptionRecord,
    AuthorRecord,
    HistoryRecord,
    OfficeEntry,
    SubmissionRecord,
    UnitRecord,
)
from scoring.results import MonthScores, YearScores

PANJIN = load_packaged_profile("panjin-2025")
EXAMPLE = load_packaged_profile("example-province")

UNITS = (
    UnitRecord("危化科", "department", 1),
    UnitRecord("综合行政执法队", "department", 2),
    UnitRecord("盘山县应急管理局", "county", 3),
    UnitRecord("宣教科", "department", 4),
)

D = Decimal


def at(day: str, hour: int = 10) -> datetime:
    """A moment in Panjin: `at("2025-06-03")` is 10:00 that day, Asia/Shanghai."""
    return datetime.combine(date.fromisoformat(day), time(hour), tzinfo=SHANGHAI)


def draft(
    id_: int,
    unit: str | None,
    day: str,
    *authors: tuple[str, str | None],
    title: str | None = None,
    status: str = "accepted",
    category: str = "regular",
    chars: int = 800,
) -> SubmissionRecord:
    """A submission; authors as (name, unit) pairs, e.g. ("王强", "危化科")."""
    return SubmissionRecord(
        id=id_,
        unit=unit,
        title=title or f"稿件{id_}",
        received_at=at(day),
        status=status,
        category=category,
        chars=chars,
        authors=tuple(AuthorRecord(name, u) for name, u in authors),
    )


def adopt(
    id_: int, submission_id: int, channel: str, day: str, *, revoked: str | None = None
) -> AdoptionRecord:
    return AdoptionRecord(id_, submission_id, channel, at(day), at(revoked) if revoked else None)


def entry(
    id_: int,
    kind: str,
    day: str,
    *,
    unit: str | None = None,
    submission_id: int | None = None,
    person: str | None = None,
    points: str | None = None,
    note: str = "",
) -> OfficeEntry:
    return OfficeEntry(
        id_, kind, date.fromisoformat(day), unit, submission_id, person, D(points) if points else None, note
    )


def history(unit: str, month: str, submitted: int, score: str, **adoptions: int) -> HistoryRecord:
    first = date.fromisoformat(f"{month}-01")
    return HistoryRecord(unit, first, submitted, tuple(adoptions.items()), D(score))


def month(
    label: str,
    *,
    subs: Iterable[SubmissionRecord] = (),
    adoptions: Iterable[AdoptionRecord] = (),
    entries: Iterable[OfficeEntry] = (),
    past: Iterable[HistoryRecord] = (),
    profile: Profile = PANJIN,
    units: Iterable[UnitRecord] = UNITS,
    calendar: WorkCalendar | None = None,
    now: datetime | None = None,
) -> MonthScores:
    """Score one month with the given records (the Panjin profile unless told)."""
    return score_month(
        month=parse_month(label),
        units=units,
        submissions=subs,
        adoptions=adoptions,
        entries=entries,
        history=past,
        profile=profile,
        calendar=calendar or WorkCalendar(),
        now=now,
    )


def year(
    number: int,
    *,
    subs: Iterable[SubmissionRecord] = (),
    adoptions: Iterable[AdoptionRecord] = (),
    entries: Iterable[OfficeEntry] = (),
    past: Iterable[HistoryRecord] = (),
    profile: Profile = PANJIN,
    units: Iterable[UnitRecord] = UNITS,
    now: datetime | None = None,
    itemized: bool = True,
) -> YearScores:
    return score_year(
        year=number,
        units=units,
        submissions=subs,
        adoptions=adoptions,
        entries=entries,
        history=past,
        profile=profile,
        calendar=WorkCalendar(),
        now=now,
        itemized=itemized,
    )


def rules_of(scores: MonthScores, unit: str) -> list[tuple[str, Decimal, str | None]]:
    """A unit's lines as (rule, points, person), for compact assertions."""
    return [(line.rule, line.points, line.person) for line in scores.unit(unit).lines]
