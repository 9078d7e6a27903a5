"""What every rule reads: the ledger's records, indexed once, and the month being scored."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from itertools import accumulate
from operator import attrgetter
from typing import Protocol

from scoring.calendar import WorkCalendar
from scoring.periods import SHANGHAI, Period, day_of, month_of
from scoring.profile import Article, Profile, RuleSet
from scoring.records import (
    AdoptionRecord,
    DraftTally,
    OfficeEntry,
    ResponseRecord,
    SolicitationRecord,
    SubmissionRecord,
    UnitRecord,
)
from scoring.results import Line
from scoring.split import Share


@dataclass(frozen=True)
class Ledger:
    """The records handed in by the daemon's query layer (or built by hand in tests)."""

    units: tuple[UnitRecord, ...]
    submissions: tuple[SubmissionRecord, ...]
    adoptions: tuple[AdoptionRecord, ...]
    entries: tuple[OfficeEntry, ...]
    solicitations: tuple[SolicitationRecord, ...] = ()
    responses: tuple[ResponseRecord, ...] = ()
    # Plain drafts of months scored only for their sum, as counts (records.DraftTally).
    tallies: tuple[DraftTally, ...] = ()

    @cached_property
    def unit_names(self) -> frozenset[str]:
        return frozenset(u.name for u in self.units)

    @cached_property
    def _units(self) -> dict[str, UnitRecord]:
        return {u.name: u for u in self.units}

    @cached_property
    def _submissions(self) -> dict[int, SubmissionRecord]:
        return {s.id: s for s in self.submissions}

    @cached_property
    def _adoptions(self) -> dict[int, list[AdoptionRecord]]:
        # A revoked adoption never counts: scores are recomputed from the ledger as it stands, so
        # revoking rolls back every score it fed and re-adding restores them.
        by_submission: dict[int, list[AdoptionRecord]] = defaultdict(list)
        for a in sorted(self.adoptions, key=adoption_order):
            if a.revoked_at is None:
                by_submission[a.submission_id].append(a)
        return by_submission

    def unit(self, name: str | None) -> UnitRecord | None:
        return self._units.get(name) if name is not None else None

    def submission(self, id_: int) -> SubmissionRecord | None:
        return self._submissions.get(id_)

    @cached_property
    def _accepted(self) -> dict[str | None, tuple[list[int], list[SubmissionRecord]]]:
        """Accepted drafts per sending unit (None: all), oldest first, with their times for bisecting."""
        # The daemon hands them in oldest first already, which sorting then merely confirms.
        ordered = sorted(
            (s for s in self.submissions if s.status == "accepted"), key=attrgetter("received_at", "id")
        )
        instants = [_instant(s.received_at) for s in ordered]
        groups: dict[str | None, tuple[list[int], list[SubmissionRecord]]] = defaultdict(lambda: ([], []))
        for instant, s in zip(instants, ordered, strict=True):
            times, subs = groups[s.unit]
            times.append(instant)
            subs.append(s)
        groups[None] = (instants, ordered)
        return dict(groups)

    def accepted(self, period: Period, unit: str | None = None) -> list[SubmissionRecord]:
        """Accepted drafts received in `period` (from `unit` if given), oldest first."""
        return _within(self._accepted.get(unit), self._span(period))

    @cached_property
    def _spans(self) -> dict[Period, tuple[int, int]]:
        return {}

    def _span(self, period: Period) -> tuple[int, int]:
        # Every unit asks about the same few months and weeks: their instants are worked out once.
        span = self._spans.get(period)
        if span is None:
            span = self._spans[period] = (_instant(period.start), _instant(period.end))
        return span

    @cached_property
    def _by_category(self) -> dict[str, tuple[list[int], list[SubmissionRecord]]]:
        groups: dict[str, tuple[list[int], list[SubmissionRecord]]] = defaultdict(lambda: ([], []))
        for instant, s in zip(*self._accepted.get(None, ([], [])), strict=True):
            times, subs = groups[s.category]
            times.append(instant)
            subs.append(s)
        return dict(groups)

    def filed(self, period: Period, category: str) -> list[SubmissionRecord]:
        """Accepted drafts of `category` (a column's items) received in `period`, oldest first."""
        return _within(self._by_category.get(category), self._span(period))

    @cached_property
    def _tallies(self) -> dict[str | None, tuple[list[date], list[DraftTally], list[int]]]:
        """Tallies per sending unit (None: all) by day, with running counts for range sums."""
        ordered = sorted(self.tallies, key=attrgetter("day"))
        groups: dict[str | None, list[DraftTally]] = defaultdict(list)
        for t in ordered:
            groups[t.unit].append(t)
        groups[None] = ordered
        day, count = attrgetter("day"), attrgetter("count")
        return {
            unit: (list(map(day, ts)), ts, [0, *accumulate(map(count, ts))]) for unit, ts in groups.items()
        }

    @cached_property
    def _days(self) -> dict[Period, tuple[date, date, bool]]:
        return {}

    def _tally_range(self, period: Period, unit: str | None) -> tuple[list[DraftTally], list[int], int, int]:
        days, tallies, running = self._tallies.get(unit, ([], [], [0]))
        found = self._days.get(period)
        if found is None:
            first, end = day_of(period.start), day_of(period.end)
            whole = period.start == _midnight(first) and period.end == _midnight(end)
            found = self._days[period] = (first, end, whole)
        first, end, whole = found
        if days and not whole:
            raise ValueError(
                f"period {period.label!r} does not run from midnight to midnight: tallies count days"
            )
        return tallies, running, bisect_left(days, first), bisect_left(days, end)

    def tallied(self, period: Period, unit: str | None = None) -> list[DraftTally]:
        """The tallies of drafts received in `period` (from `unit` if given), oldest first."""
        tallies, _, lo, hi = self._tally_range(period, unit)
        return tallies[lo:hi]

    def count(self, period: Period, unit: str | None = None) -> int:
        """How many accepted drafts were received in `period` (from `unit`): records and tallies."""
        times = self._accepted[unit][0] if unit in self._accepted else []
        start, end = self._span(period)
        counted = bisect_left(times, end) - bisect_left(times, start)
        if self.tallies:
            _, running, lo, hi = self._tally_range(period, unit)
            counted += running[hi] - running[lo]
        return counted

    def adoptions_of(self, submission_id: int) -> list[AdoptionRecord]:
        """The submission's adoptions that stand (not revoked), oldest first."""
        return self._adoptions.get(submission_id, [])

    @cached_property
    def _active(self) -> tuple[list[AdoptionRecord], list[int]]:
        standing = [a for subs in self._adoptions.values() for a in subs]
        return standing, [_instant(a.adopted_at) for a in standing]

    def active_adoptions(self, period: Period) -> list[AdoptionRecord]:
        """The adoptions dated in `period` that stand, grouped by draft (drafts by first adoption)."""
        standing, instants = self._active
        start, end = self._span(period)
        return [a for a, t in zip(standing, instants, strict=True) if start <= t < end]


# In UTC, the zone the daemon's records come in: subtracting datetimes of the same zone is plain
# arithmetic, of different zones two offset lookups.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _instant(moment: datetime) -> int:
    # Microseconds since the epoch: comparing aware datetimes of different zones (the ledger's UTC,
    # the periods' Asia/Shanghai) converts both on every comparison, ints compare at once.
    return (moment - _EPOCH) // _MICROSECOND


def _within(
    index: tuple[list[int], list[SubmissionRecord]] | None, span: tuple[int, int]
) -> list[SubmissionRecord]:
    if index is None:
        return []
    times, subs = index
    return subs[bisect_left(times, span[0]) : bisect_left(times, span[1])]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


def adoption_order(adoption: AdoptionRecord) -> tuple[datetime, str, int]:
    """Adoptions are taken by date, then channel: a revoked and re-entered one (a new id) keeps its place."""
    return (adoption.adopted_at, adoption.channel, adoption.id)


@dataclass(frozen=True)
class MonthContext:
    """The month being scored, its records and rules; `now` (if given) hides periods not yet over."""

    month: Period
    ledger: Ledger
    profile: Profile
    calendar: WorkCalendar
    now: datetime | None = None
    # Column shortfalls are judged from this day on (the day the bureau began filing column
    # items through xinbao); None: never, column items still score.
    columns_from: date | None = None
    # False when only the month's sums are wanted (an earlier month carried into the cumulative
    # score, a year's months): the draft rule then adds its drafts up per unit and author, one
    # line each, instead of a line per draft and author. The sums are the same.
    itemized: bool = True
    # Rules looked up so far, by (unit, first day of the period): every draft asks.
    _rules: dict[tuple[str, date], RuleSet] = field(default_factory=dict, compare=False, repr=False)

    def rules(self, unit: str, period: Period | None = None) -> RuleSet:
        """The rules for `unit`'s group in force at the start of `period` (default: this month)."""
        key = (unit, day_of((period or self.month).start))
        found = self._rules.get(key)
        if found is None:
            record = self.ledger.unit(unit)
            found = self._rules[key] = self.profile.rules(
                period or self.month, record.group if record else ""
            )
        return found

    def rules_at(self, unit: str, moment: datetime) -> RuleSet:
        """The rules that score something dated `moment`: those of its month."""
        found = self._rules.get((unit, day_of(moment).replace(day=1)))
        return found if found is not None else self.rules(unit, month_of(moment))

    def over(self, period: Period) -> bool:
        return self.now is None or self.now >= period.end

    def sender(self, submission: SubmissionRecord) -> str | None:
        """The sending unit, if it is configured (a draft from anyone else is not scored)."""
        return submission.unit if submission.unit in self.ledger.unit_names else None


def article_of(submission: SubmissionRecord, rules: RuleSet) -> Article | None:
    """The annual article `submission` counts as, if its category has one and it is long enough."""
    article = rules.article(submission.category)
    return article if article is not None and submission.chars >= article.min_chars else None


@dataclass(frozen=True, slots=True)
class Credit:
    """A line for a unit: rules yield these, the engine groups them per unit and per person."""

    unit: str
    line: Line


def credits(
    shares: tuple[Share, ...],
    *,
    rule: str,
    head: str,
    sender: str,
    submission_id: int | None,
    adoption_id: int | None = None,
) -> Iterator[Credit]:
    """One credit per author share; `head` opens each note, the share's own note closes it.

    A share landing in another unit than the sender's (a co-author elsewhere) names the sender.
    """
    for share in shares:
        origin = "" if share.unit == sender else f"（{sender}报送）"
        note = f"{head}{origin}，{share.note}"
        yield Credit(share.unit, Line(rule, share.points, submission_id, adoption_id, share.person, note))


class Rule(Protocol):
    """A named rule of the profile: pure, it reads the context and yields credits."""

    name: str
    description: str

    def score(self, ctx: MonthContext) -> Iterator[Credit]: ...
