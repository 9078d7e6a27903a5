"""The ledger's rows as the engine's frozen records, read as plain columns for speed."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import Session, col, select

from daemon.config import Config
from daemon.models import Adoption, Submission, SubmissionAuthor, SubmissionStatus, Unit, UTCDateTime
from daemon.models_scoring import Entry, History, Solicitation, SolicitationResponse
from daemon.scoring_io import columns_from, load_profile, unit_records, year_period
from scoring.engine import collector_paused
from scoring.periods import SHANGHAI, Period, day_of
from scoring.quota import counted_span, whole_weeks
from scoring.records import (
    AdoptionRecord,
    AuthorRecord,
    DraftTally,
    HistoryRecord,
    OfficeEntry,
    ResponseRecord,
    SolicitationRecord,
    SubmissionRecord,
    UnitRecord,
)


@dataclass(frozen=True)
class Records:
    """Everything scoring reads, from the ledger and config."""

    units: tuple[UnitRecord, ...]
    submissions: tuple[SubmissionRecord, ...]
    adoptions: tuple[AdoptionRecord, ...]
    entries: tuple[OfficeEntry, ...]
    history: tuple[HistoryRecord, ...]
    solicitations: tuple[SolicitationRecord, ...] = ()
    responses: tuple[ResponseRecord, ...] = ()
    columns_from: date | None = None
    # Plain drafts outside the month of load_month_records, as counts (score_month only).
    tallies: tuple[DraftTally, ...] = ()

    def engine_args(self) -> dict[str, Any]:
        """The keyword arguments of score_month / score_year that come from the ledger.

        `tallies` only when there are some: load_month_records' records are for score_month.
        """
        out: dict[str, Any] = {
            "units": self.units,
            "submissions": self.submissions,
            "adoptions": self.adoptions,
            "entries": self.entries,
            "history": self.history,
            "solicitations": self.solicitations,
            "responses": self.responses,
            "columns_from": self.columns_from,
        }
        if self.tallies:
            out["tallies"] = self.tallies
        return out


def load_records(s: Session, config: Config, period: Period) -> Records:
    """The records scoring needs for `period` (a year, or a week for quotas).

    Submissions received in the period and in the rest of the weeks its months check
    (scoring.quota.whole_weeks: 2026 from 29 December 2025 to 3 January 2027), plus older ones
    adopted or entered in it (a May draft adopted in July scores in July); adoptions (revoked ones
    too: scoring skips them) and office entries dated in it; imported history for its months.
    """
    with collector_paused():
        items = _items(s, period)
        wanted = _received(whole_weeks(period)) | _linked(items, period)
        return _records(config, items, _submissions(s, items.units, wanted))


def load_month_records(s: Session, config: Config, month: Period) -> Records:
    """What score_month needs for `month` (and the notice), the same scores for less reading.

    The month's drafts, every draft an adoption, entry or solicitation names and every article or
    column item of the year come as records; the year's other accepted drafts, which only add
    per-draft points to the earlier months' sums and count for the quotas, as tallies: those of
    the months before and of the week after (a week checked in the month may end in the next),
    none outside the days any draft counts for the year (scoring.quota.counted_span: from the
    profile's first month, into the neighbouring years for the weeks spanning New Year).
    Adoptions, entries, solicitations and history come from the year up to the month's end: no
    rule scoring a month looks at anything dated after it.
    A profile that caps draft points needs them in order, as records: then the whole year is.
    """
    profile = load_profile(config)
    number = day_of(month.start).year
    year = year_period(number)
    rule_sets = [r for v in profile.versions for r in (v.default, *(g for _, g in v.groups))]
    if any(r.draft.cap is not None for r in rule_sets):
        return load_records(s, config, year)
    # Drafts of these categories may score by another rule than `draft` (articles, columns).
    special = sorted(
        {a.category for r in rule_sets for a in r.articles} | {c.name for r in rule_sets for c in r.columns}
    )
    counted = counted_span(profile, number)
    # The articles and column items of New Year weeks' days in the neighbouring years too: they
    # count for those weeks (their own year scores them).
    reach = Period(year.label, min(year.start, counted.start), max(year.end, counted.end))
    wanted = _received(month) | (_received(reach) & col(Submission.category).in_(special))
    end = min(counted.end, month.end + timedelta(days=7))
    first = min(counted.start, end)
    outside = _received(Period("", first, month.start)) | _received(Period("", max(first, month.end), end))
    plain = outside & col(Submission.category).not_in(special)
    so_far = Period(year.label, year.start, month.end)
    with collector_paused():
        items = _items(s, so_far)
        drafts = _submissions(s, items.units, wanted | _linked(items, so_far))
        tallies = _tallies(s, items, plain, first, end) if first < end else ()
        return replace(_records(config, items, drafts), tallies=tallies)


def _received(period: Period) -> sa.ColumnElement[bool]:
    return (col(Submission.received_at) >= period.start) & (col(Submission.received_at) < period.end)


def _adopted_in(period: Period) -> sa.ColumnElement[bool]:
    return (col(Adoption.adopted_at) >= period.start) & (col(Adoption.adopted_at) < period.end)


def _linked(items: _Items, period: Period) -> sa.ColumnElement[bool]:
    """The drafts `items` names (`items.linked`), those of `period`'s adoptions by a subquery.

    A province adopts thousands of drafts a year: as a list of bound parameters their ids took
    longer to compile and to match than the drafts took to read.
    """
    adopted = sa.select(col(Adoption.submission_id)).where(_adopted_in(period))
    others = items.linked - {a.submission_id for a in items.adoptions}
    return col(Submission.id).in_(adopted) | col(Submission.id).in_(sorted(others))


@dataclass(frozen=True)
class _Items:
    """The ledger's rows of a period besides the drafts, and the drafts they name."""

    units: dict[int | None, str]
    adoptions: tuple[AdoptionRecord, ...]
    entries: tuple[OfficeEntry, ...]
    history: tuple[HistoryRecord, ...]
    solicitations: tuple[SolicitationRecord, ...]
    responses: tuple[ResponseRecord, ...]
    linked: frozenset[int]


def _items(s: Session, period: Period) -> _Items:
    start, end = period.start, period.end
    first, last = start.astimezone(SHANGHAI).date(), end.astimezone(SHANGHAI).date()
    units: dict[int | None, str] = {u.id: u.name for u in s.exec(select(Unit))}
    # Columns, not ORM objects: a province adopts thousands of drafts a year.
    adoptions = (
        s.connection()
        .execute(
            sa.select(
                col(Adoption.id),
                col(Adoption.submission_id),
                col(Adoption.channel),
                col(Adoption.adopted_at),
                col(Adoption.revoked_at),
            ).where(_adopted_in(period))
        )
        .all()
    )
    entries = s.exec(select(Entry).where(Entry.period >= first, Entry.period < last)).all()
    sols = s.exec(
        select(Solicitation).where(Solicitation.deadline >= first, Solicitation.deadline < last)
    ).all()
    responses = s.exec(
        select(SolicitationResponse).where(
            col(SolicitationResponse.solicitation_id).in_([x.id for x in sols])
        )
    ).all()
    linked = {a[1] for a in adoptions} | {e.submission_id for e in entries if e.submission_id}
    linked |= {r.submission_id for r in responses}
    history = s.exec(select(History).where(History.month >= first, History.month < last)).all()
    return _Items(
        units=units,
        adoptions=tuple(
            AdoptionRecord(id_ or 0, sub_id, channel, adopted_at, revoked_at)
            for id_, sub_id, channel, adopted_at, revoked_at in adoptions
        ),
        entries=tuple(
            OfficeEntry(
                id=e.id or 0,
                kind=e.kind,
                period=e.period,
                unit=units.get(e.unit_id),
                submission_id=e.submission_id,
                person=e.person,
                points=_decimal(e.points),
                note=e.note,
            )
            for e in entries
        ),
        history=tuple(
            HistoryRecord(
                unit=units.get(h.unit_id, ""),
                month=h.month,
                submitted=h.submitted,
                adoptions=tuple((str(k), int(v)) for k, v in h.adoptions.items()),
                score=_decimal(h.score) or Decimal(0),
            )
            for h in history
        ),
        solicitations=tuple(SolicitationRecord(x.id or 0, x.topic, x.deadline, tuple(x.units)) for x in sols),
        responses=tuple(
            ResponseRecord(
                id=r.id or 0,
                solicitation_id=r.solicitation_id,
                submission_id=r.submission_id,
                grade=r.grade,
                deduction=_decimal(r.deduction) or Decimal(0),
                note=r.note,
            )
            for r in responses
        ),
        linked=frozenset(linked),
    )


def _records(config: Config, items: _Items, submissions: tuple[SubmissionRecord, ...]) -> Records:
    return Records(
        units=unit_records(config),
        submissions=submissions,
        adoptions=items.adoptions,
        entries=items.entries,
        history=items.history,
        solicitations=items.solicitations,
        responses=items.responses,
        columns_from=columns_from(config),
    )


def _submissions(
    s: Session, units: dict[int | None, str], wanted: sa.ColumnElement[bool]
) -> tuple[SubmissionRecord, ...]:
    # Plain columns, not ORM objects: a province's year is 100,000 drafts, and building an ORM
    # instance per row cost ten times the scoring itself (benchmarks/scoring.py). One query with
    # the authors joined, in the tables' own order (sorting the joined rows in SQL took longer
    # than reading them); the times are converted together (_utc), and the status read as the
    # text it is stored as (SubmissionStatus's value).
    conn = s.connection()
    rows = conn.execute(
        sa.select(
            col(Submission.id),
            col(Submission.unit_id),
            col(Submission.title),
            sa.type_coerce(col(Submission.received_at), sa.String),
            sa.type_coerce(col(Submission.status), sa.String),
            col(Submission.category),
            col(Submission.chars),
            col(SubmissionAuthor.name),
            col(SubmissionAuthor.unit_id),
        )
        .select_from(Submission)
        .outerjoin(SubmissionAuthor, col(SubmissionAuthor.submission_id) == col(Submission.id))
        .where(wanted)
        .order_by(col(Submission.id), col(SubmissionAuthor.position))
    ).all()
    # Authors repeat (a unit's publicist writes most of its drafts): one record per name and unit.
    known: dict[tuple[str, int | None], AuthorRecord] = {}
    drafts: list[tuple[Any, ...]] = []
    team: list[AuthorRecord] = []
    last = None
    for sub_id, unit_id, title, at, status, category, chars, name, author_unit in rows:
        if sub_id != last:
            last, team = sub_id, []
            drafts.append((at, sub_id, unit_id, title, status, category, chars, team))
        # An author's name is never NULL: a NULL is the outer join's draft without authors.
        if name is not None:
            author = known.get((name, author_unit))
            if author is None:
                author = known[(name, author_unit)] = AuthorRecord(name, units.get(author_unit))
            team.append(author)
    # Oldest first, as the database orders the times it stores, then by id: the drafts are in
    # id order already, and a stable sort by time alone keeps it among equal times.
    drafts.sort(key=itemgetter(0))
    times = _utc(conn, [d[0] for d in drafts])
    unit = units.get
    return tuple(
        SubmissionRecord(sub_id, unit(unit_id), title, at, status, category, chars, tuple(team))
        for at, (_, sub_id, unit_id, title, status, category, chars, team) in zip(times, drafts, strict=True)
    )


def _utc(conn: sa.Connection, stored: list[Any]) -> list[datetime]:
    """Times of UTCDateTime columns read as stored (type_coerce'd to text), as aware datetimes.

    What the column type's own conversion gives, faster: on SQLite it parses the text and then
    sets the zone with datetime.replace, which takes keyword arguments and cost five times the
    parse; parsing the text with the UTC offset appended gives the same datetime (zone
    datetime.UTC) at once. Text that does not parse so (stored with an offset, by another
    program) takes the column type's way.
    """
    dialect = conn.dialect
    if dialect.name == "sqlite":
        parse = datetime.fromisoformat
        try:
            return [parse(text + "+00:00") for text in stored]
        except (TypeError, ValueError):
            pass
    convert = UTCDateTime().dialect_impl(dialect).result_processor(dialect, None)
    return [cast(datetime, convert(value)) for value in stored] if convert is not None else stored


def _tallies(
    s: Session, items: _Items, wanted: sa.ColumnElement[bool], first: datetime, end: datetime
) -> tuple[DraftTally, ...]:
    """The accepted drafts `wanted` names (none of `items.linked`) in [first, end), as tallies."""
    conn = s.connection()
    rows = conn.execute(
        sa.select(
            col(Submission.id),
            col(Submission.unit_id),
            # As stored: the day is found by comparing with each day's start as the database
            # compares them (text on SQLite), not by building 100,000 datetimes.
            sa.type_coerce(col(Submission.received_at), sa.String),
            col(SubmissionAuthor.position),
            col(SubmissionAuthor.unit_id),
        )
        .select_from(Submission)
        .outerjoin(SubmissionAuthor, col(SubmissionAuthor.submission_id) == col(Submission.id))
        .where(col(Submission.status) == SubmissionStatus.ACCEPTED, wanted)
        .order_by(col(Submission.id), col(SubmissionAuthor.position))
    )
    dialect = conn.dialect
    stored = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    days = [day_of(first) + timedelta(days=n) for n in range((day_of(end) - day_of(first)).days)]
    starts = [datetime.combine(d, time.min, tzinfo=SHANGHAI) for d in days]
    keys = [stored(m) for m in starts] if stored else starts
    # A plain dict, not a Counter: Counter's __missing__ is a Python call per new key.
    counts: dict[tuple[int | None, int, tuple[int | None, ...]], int] = {}
    tally = counts.get
    linked = items.linked
    # One row per author, in order (one row without a position for a draft with none).
    for sub_id, drafted in groupby(rows.all(), key=itemgetter(0)):
        if sub_id in linked:
            continue
        head, *others = drafted
        team = () if head[3] is None else (head[4], *(row[4] for row in others))
        key = (head[1], bisect_right(keys, head[2]) - 1, team)
        counts[key] = tally(key, 0) + 1
    units = items.units
    # Teams repeat (the same publicists, the same units): each is named once.
    named: dict[tuple[int | None, ...], tuple[str | None, ...]] = {}
    out = []
    for (unit_id, day, ids), n in counts.items():
        names = named.get(ids)
        if names is None:
            names = named[ids] = tuple(map(units.get, ids))
        out.append(DraftTally(units.get(unit_id), days[day], names, n))
    return tuple(out)


def _decimal(value: Decimal | None) -> Decimal | None:
    # Both backends hand NUMERIC(10, 4) back as Decimal at the column's scale (0.3000).
    return None if value is None else Decimal(value).quantize(Decimal("0.0001"))
