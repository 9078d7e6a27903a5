"""Score a month or a year: run the profile's rules, group lines per unit and per person, add up.

Invariants (tested): a unit's `score` is the sum of its lines; every configured unit appears;
a person's lines are exactly the author-split lines (those naming a person) of their unit, so the
people's total equals the units' total over those lines. Unit-only lines (person None: quotas,
unit entries, drafts without authors, zero-point explanations, history) belong to no person.
`cumulative` is the year to date, months with imported history counted by their imported score.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from scoring.calendar import WorkCalendar, fallback_warning
from scoring.columns import responsible
from scoring.context import Ledger, MonthContext
from scoring.periods import Period, day_of, month
from scoring.profile import Profile
from scoring.quota import ordered_units, weeks_in_month
from scoring.records import (
    AdoptionRecord,
    DraftTally,
    HistoryRecord,
    OfficeEntry,
    ResponseRecord,
    SolicitationRecord,
    SubmissionRecord,
    UnitRecord,
)
from scoring.results import Line, MonthScores, PersonScore, UnitScore, YearScores
from scoring.rules import RULES
from scoring.split import fmt


def score_month(
    *,
    month: Period,
    units: Iterable[UnitRecord],
    submissions: Iterable[SubmissionRecord],
    adoptions: Iterable[AdoptionRecord],
    entries: Iterable[OfficeEntry],
    history: Iterable[HistoryRecord],
    profile: Profile,
    calendar: WorkCalendar,
    now: datetime | None = None,
    solicitations: Iterable[SolicitationRecord] = (),
    responses: Iterable[ResponseRecord] = (),
    columns_from: date | None = None,
    tallies: Iterable[DraftTally] = (),
) -> MonthScores:
    """`scores --month`. Hand in the whole year's records (and any older draft adopted this year),
    with the drafts of the neighbouring years' days of its New Year weeks (quota.counted_span): they
    count for those weeks' quotas only.

    `now`, if given, leaves unchecked the quotas of weeks and months not yet over; without it the
    month is scored as complete. Solicitations and their responses feed rule `solicitation`;
    `columns_from` is the day column shortfalls are judged from (None: not judged).

    The earlier months count only through their sums (`cumulative`), so their plain drafts may be
    handed in as `tallies` instead of records (records.DraftTally), as may drafts of the months
    after (only the weeks checked in `month` look at those) and of the neighbouring years. Never
    the month's own drafts, and not under a profile that caps draft points: ValueError. Drafts
    received outside quota.counted_span count for no month of the year and may be left out.
    """
    tallied = tuple(tallies)
    first, end = day_of(month.start), day_of(month.end)
    inside = next((t for t in tallied if first <= t.day < end), None)
    if inside is not None:
        raise ValueError(f"drafts of {inside.day} are tallied, but {month.label} is the month scored")
    with collector_paused():
        scorer = _Scorer(
            _ledger(units, submissions, adoptions, entries, solicitations, responses, tallied),
            tuple(history),
            profile,
            calendar,
            now,
            columns_from,
        )
        for number in range(1, first.month):
            scorer.carry(_month(first.year, number))
        return scorer.score(month)


def score_year(
    *,
    year: int,
    units: Iterable[UnitRecord],
    submissions: Iterable[SubmissionRecord],
    adoptions: Iterable[AdoptionRecord],
    entries: Iterable[OfficeEntry],
    history: Iterable[HistoryRecord],
    profile: Profile,
    calendar: WorkCalendar,
    now: datetime | None = None,
    solicitations: Iterable[SolicitationRecord] = (),
    responses: Iterable[ResponseRecord] = (),
    columns_from: date | None = None,
    itemized: bool = True,
) -> YearScores:
    """`scores --year`: a `month` line per month for each unit and person, the months in full.

    Hand in the records as score_month takes them: a draft of the days quota.counted_span adds
    around the year counts for a week's quota here and scores in its own year only. With `now`,
    months that have not begun are left out (pass it for the current year). `itemized=False`
    leaves the months' per-draft points added up per unit and author (context.MonthContext):
    the year's units and people are the same, its `months` shorter (what `scores --year` shows).
    """
    with collector_paused():
        scorer = _Scorer(
            _ledger(units, submissions, adoptions, entries, solicitations, responses),
            tuple(history),
            profile,
            calendar,
            now,
            columns_from,
            itemized,
        )
        months = tuple(
            scorer.score(p) for p in (_month(year, n) for n in range(1, 13)) if now is None or p.start <= now
        )
        unit_lines: dict[str, list[Line]] = {u.name: [] for u in scorer.ledger.units}
        submitted: dict[str, int] = defaultdict(int)
        people: dict[tuple[str, str], list[Line]] = defaultdict(list)
        for scores in months:
            first = day_of(scores.month.start)
            label = f"{first.year}年{first.month}月"
            for u in scores.units:
                submitted[u.unit] += u.submitted
                if u.lines:
                    unit_lines[u.unit].append(_month_line(label, u.score, None, u.lines))
            for p in scores.people:
                people[(p.name, p.unit)].append(_month_line(label, p.score, p.name, p.lines))
        warnings = tuple(dict.fromkeys(w for m in months for w in m.warnings))
        return YearScores(
            year=year,
            units=_units(scorer.ledger, unit_lines, submitted, {}),
            people=_people(scorer.ledger, people),
            months=months,
            warnings=warnings,
        )


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (the collector's previous state after).

    Scoring a province's year makes a few hundred thousand lines (reading its drafts and writing
    the notice's workbook as many objects), and the collector, which runs every few hundred new
    objects and now and then walks every object alive, took a quarter to nearly half of the time
    without finding anything: records and lines hold no reference cycles, reference counting
    frees them. Pausing it changes no result.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _ledger(
    units: Iterable[UnitRecord],
    submissions: Iterable[SubmissionRecord],
    adoptions: Iterable[AdoptionRecord],
    entries: Iterable[OfficeEntry],
    solicitations: Iterable[SolicitationRecord],
    responses: Iterable[ResponseRecord],
    tallies: tuple[DraftTally, ...] = (),
) -> Ledger:
    return Ledger(
        ordered_units(units),
        tuple(submissions),
        tuple(adoptions),
        tuple(entries),
        tuple(solicitations),
        tuple(responses),
        tallies,
    )


def _month(year: int, number: int) -> Period:
    return month(year, number)


def _month_line(month_label: str, points: Decimal, person: str | None, lines: tuple[Line, ...]) -> Line:
    """The year's line for a month (`month_label`: 2025年6月) of a unit's or a person's lines."""
    history = "（历史数据）" if any(line.rule == "history" for line in lines) else ""
    return Line("month", points, None, None, person, f"{month_label}得分{fmt(points)}分{history}")


@dataclass
class _Scorer:
    """Scores months of one year in order, carrying each unit's cumulative score."""

    ledger: Ledger
    history: tuple[HistoryRecord, ...]
    profile: Profile
    calendar: WorkCalendar
    now: datetime | None
    columns_from: date | None = None
    itemized: bool = True
    cumulative: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))

    def score(self, period: Period) -> MonthScores:
        submitted = {u.name: self.ledger.count(period, u.name) for u in self.ledger.units}
        lines, ctx = self._lines(period, self.itemized)
        return self._finish(period, lines, submitted, _warnings(ctx) if ctx is not None else [])

    def carry(self, period: Period) -> None:
        """Score `period` for its sums only, as `score` adds them to `cumulative` (an earlier month)."""
        lines, _ = self._lines(period, itemized=False)
        self._import_history(period, lines, None, [])
        self._add_up(lines)

    def _lines(self, period: Period, itemized: bool) -> tuple[dict[str, list[Line]], MonthContext | None]:
        lines: dict[str, list[Line]] = {u.name: [] for u in self.ledger.units}
        # A month that ends before the profile's first version had no rules in force: only
        # imported history scores there.
        if self.profile.precedes(period):
            return lines, None
        ctx = MonthContext(
            period, self.ledger, self.profile, self.calendar, self.now, self.columns_from, itemized
        )
        for rule in RULES:
            for credit in rule.score(ctx):
                lines[credit.unit].append(credit.line)
        return lines, ctx

    def _finish(
        self, period: Period, lines: dict[str, list[Line]], submitted: dict[str, int], warnings: list[str]
    ) -> MonthScores:
        self._import_history(period, lines, submitted, warnings)
        totals = self._add_up(lines)
        version = self.profile.version_for(period)
        return MonthScores(
            month=period,
            profile=f"{self.profile.name} {version.effective_from.isoformat()}",
            units=_units(self.ledger, lines, submitted, self.cumulative, totals),
            people=_people(self.ledger, _person_lines(lines)),
            warnings=tuple(warnings),
        )

    def _import_history(
        self,
        period: Period,
        lines: dict[str, list[Line]],
        submitted: dict[str, int] | None,
        warnings: list[str],
    ) -> None:
        """An imported month replaces a unit's lines (and, when counted, its drafts submitted)."""
        for record in self.history:
            if record.month != day_of(period.start):
                continue
            if record.unit not in lines:
                warnings.append(f"history {period.label}: unit {record.unit!r} is not configured; ignored")
                continue
            if submitted is not None:
                if submitted[record.unit]:
                    warnings.append(
                        f"history {period.label}: {record.unit} also has {submitted[record.unit]} drafts "
                        "in the ledger; the imported score is used"
                    )
                submitted[record.unit] = record.submitted
            lines[record.unit] = [_history_line(record, period)]

    def _add_up(self, lines: dict[str, list[Line]]) -> dict[str, Decimal]:
        """Each unit's total for the month, added to its running total for the year."""
        totals = {name: _total(unit_lines) for name, unit_lines in lines.items()}
        for name, total in totals.items():
            self.cumulative[name] += total
        return totals


def _history_line(record: HistoryRecord, period: Period) -> Line:
    adopted = "、".join(f"{channel}{count}篇" for channel, count in record.adoptions if count)
    first = day_of(period.start)
    note = f"{first.year}年{first.month}月历史数据（导入）：报送{record.submitted}篇"
    note += f"，采用：{adopted}" if adopted else ""
    note += f"，得分{fmt(record.score)}分"
    return Line("history", record.score, None, None, None, note)


def _person_lines(lines: dict[str, list[Line]]) -> dict[tuple[str, str], list[Line]]:
    people: dict[tuple[str, str], list[Line]] = defaultdict(list)
    for unit, unit_lines in lines.items():
        for line in unit_lines:
            if line.person is not None:
                people[(line.person, unit)].append(line)
    return people


def _total(lines: list[Line]) -> Decimal:
    return sum([line.points for line in lines], Decimal(0))


def _units(
    ledger: Ledger,
    lines: dict[str, list[Line]],
    submitted: dict[str, int],
    cumulative: dict[str, Decimal],
    totals: dict[str, Decimal] | None = None,
) -> tuple[UnitScore, ...]:
    out = []
    for u in ledger.units:
        score = totals[u.name] if totals is not None else _total(lines[u.name])
        total = cumulative.get(u.name, score)
        out.append(UnitScore(u.name, u.group, submitted.get(u.name, 0), score, total, tuple(lines[u.name])))
    return tuple(out)


def _people(ledger: Ledger, people: dict[tuple[str, str], list[Line]]) -> tuple[PersonScore, ...]:
    order = {u.name: i for i, u in enumerate(ledger.units)}
    scores = [PersonScore(name, unit, _total(lines), tuple(lines)) for (name, unit), lines in people.items()]
    return tuple(sorted(scores, key=lambda p: (-p.score, order.get(p.unit, len(order)), p.name)))


def _warnings(ctx: MonthContext) -> list[str]:
    """Records scoring had to leave out, and calendar guesses: English lines for the operator's log."""
    ledger = ctx.ledger
    warnings = []
    for sub in ledger.accepted(ctx.month):
        if ctx.sender(sub) is None:
            warnings.append(f"submission {sub.id}: sending unit {sub.unit!r} is not configured; not scored")
    for a in ledger.active_adoptions(ctx.month):
        adopted = ledger.submission(a.submission_id)
        if adopted is None:
            warnings.append(f"adoption {a.id}: submission {a.submission_id} was not handed in; not scored")
        elif adopted.status != "accepted":
            warnings.append(f"adoption {a.id}: submission {adopted.id} is {adopted.status}; not scored")
    first, end = day_of(ctx.month.start), day_of(ctx.month.end)
    for e in ledger.entries:
        if not first <= e.period < end:
            continue
        if e.submission_id is not None and ledger.submission(e.submission_id) is None:
            warnings.append(f"entry {e.id}: submission {e.submission_id} was not handed in; not scored")
        elif e.submission_id is None and ledger.unit(e.unit) is None:
            warnings.append(f"entry {e.id}: unit {e.unit!r} is not configured; not scored")
    tracked = ctx.profile.version_for(ctx.month).default.columns if ctx.columns_from else ()
    for column in tracked:
        for name in responsible(column, ledger.units)[1]:
            warnings.append(f"column {column.name}: responsible unit {name!r} is neither a unit nor a group")
    # A week checked in January may begin in December, one checked in December end in January.
    weeks = weeks_in_month(ctx.month)
    years = {first.year, day_of(weeks[0].start).year, day_of(weeks[-1].end - timedelta(days=1)).year}
    warnings.extend(fallback_warning(y) for y in sorted(years) if not ctx.calendar.knows(y))
    return warnings
