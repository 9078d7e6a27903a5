"""What every rule reads: the ledger's records, indexed once, and the month being scored."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Protocol

from scoring.calendar import WorkCalendar
from scoring.periods import Period, month_of
from scoring.profile import Article, Profile, RuleSet
from scoring.records import (
    AdoptionRecord,
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
    def _accepted(self) -> dict[str | None, tuple[list[datetime], list[SubmissionRecord]]]:
        """Accepted drafts per sending unit (None: all), oldest first, with their times for bisecting."""
        ordered = sorted(
            (s for s in self.submissions if s.status == "accepted"), key=lambda s: (s.received_at, s.id)
        )
        groups: dict[str | None, list[SubmissionRecord]] = defaultdict(list)
        for s in ordered:
            groups[s.unit].append(s)
        groups[None] = ordered
        return {unit: ([s.received_at for s in subs], subs) for unit, subs in groups.items()}

    def accepted(self, period: Period, unit: str | None = None) -> list[SubmissionRecord]:
        """Accepted drafts received in `period` (from `unit` if given), oldest first."""
        times, subs = self._accepted.get(unit, ([], []))
        return subs[bisect_left(times, period.start) : bisect_left(times, period.end)]

    def adoptions_of(self, submission_id: int) -> list[AdoptionRecord]:
        """The submission's adoptions that stand (not revoked), oldest first."""
        return self._adoptions.get(submission_id, [])

    def active_adoptions(self, period: Period) -> list[AdoptionRecord]:
        return [a for subs in self._adoptions.values() for a in subs if a.adopted_at in period]


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

    def rules(self, unit: str, period: Period | None = None) -> RuleSet:
        """The rules for `unit`'s group in force at the start of `period` (default: this month)."""
        record = self.ledger.unit(unit)
        return self.profile.rules(period or self.month, record.group if record else "")

    def rules_at(self, unit: str, moment: datetime) -> RuleSet:
        """The rules that score something dated `moment`: those of its month."""
        return self.rules(unit, month_of(moment))

    def over(self, period: Period) -> bool:
        return self.now is None or self.now >= period.end

    def sender(self, submission: SubmissionRecord) -> str | None:
        """The sending unit, if it is configured (a draft from anyone else is not scored)."""
        return submission.unit if submission.unit in self.ledger.unit_names else None


def article_of(submission: SubmissionRecord, rules: RuleSet) -> Article | None:
    """The annual article `submission` counts as, if its category has one and it is long enough."""
    article = rules.article(submission.category)
    return article if article is not None and submission.chars >= article.min_chars else None


@dataclass(frozen=True)
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
