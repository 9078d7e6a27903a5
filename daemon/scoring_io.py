"""Where the ledger meets scoring/: the profile and calendar from config, the records from the database.

config.toml:

    [scoring]
    profile = "panjin-2025"          # a packaged profile (the default) …
    # profile_file = "rules.toml"    # … or a profile file, relative to config.toml

    [calendar]                       # scoring.calendar: holidays and adjusted workdays to override
    holidays = [2027-02-08]
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, or_, select

from daemon.config import Config, ConfigError
from daemon.models import Adoption, Submission, SubmissionAuthor, Unit
from daemon.models_scoring import Entry, History, Solicitation, SolicitationResponse
from scoring.calendar import CalendarError, WorkCalendar, calendar_from_config
from scoring.periods import SHANGHAI, Period, month_of, week_of
from scoring.profile import DEFAULT_PROFILE, PACKAGED_PROFILES, Article, Profile, ProfileError, RuleSet
from scoring.profile import load_packaged_profile as _load_packaged
from scoring.profile_toml import parse_profile
from scoring.quota import month_of_week
from scoring.records import (
    AdoptionRecord,
    AuthorRecord,
    HistoryRecord,
    OfficeEntry,
    ResponseRecord,
    SolicitationRecord,
    SubmissionRecord,
    UnitRecord,
)

_SCORING_KEYS = {"profile", "profile_file", "columns_from"}


def load_profile(config: Config) -> Profile:
    """The rule profile config names (`[scoring]`), the packaged Panjin profile by default."""
    raw = config.extra.get("scoring", {})
    if not isinstance(raw, dict):
        raise ConfigError('配置 [scoring] 应为一个表，如 profile = "panjin-2025"')
    unknown = sorted(set(raw) - _SCORING_KEYS)
    if unknown:
        raise ConfigError(f"配置 [scoring] 中有无法识别的项：{', '.join(unknown)}")
    if "profile" in raw and "profile_file" in raw:
        raise ConfigError("配置 [scoring] 中 profile 和 profile_file 只能写一个")
    name = str(raw.get("profile", DEFAULT_PROFILE))
    file = raw.get("profile_file")
    # docs/scoring.md lets `profile` name a file too: anything that is not a packaged name.
    if file is None and name not in PACKAGED_PROFILES and (name.endswith(".toml") or "/" in name):
        file = name
    try:
        if file is None:
            return _packaged(name)
        path = config.resolve(str(file))
        try:
            stat = path.stat()
        except OSError:
            raise ConfigError(f"找不到计分规则文件 {path}") from None
        return _from_file(str(path), stat.st_mtime_ns)
    except ProfileError as exc:
        raise ConfigError(str(exc)) from exc


@lru_cache(maxsize=4)
def _packaged(name: str) -> Profile:
    return _load_packaged(name)


@lru_cache(maxsize=4)
def _from_file(path: str, _mtime_ns: int) -> Profile:
    # Keyed by modification time too, so a long-running daemon picks up an edited file.
    return parse_profile(Path(path).read_text(encoding="utf-8"), source=path)


def columns_from(config: Config) -> date | None:
    """`[scoring] columns_from`: the day column (栏目) shortfalls are judged from; None: never."""
    raw = config.extra.get("scoring", {})
    value = raw.get("columns_from") if isinstance(raw, dict) else None
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(
            f"配置 [scoring] columns_from 应为日期（如 2025-07-01），实际为 {value!r}"
        ) from None


def load_calendar(config: Config) -> WorkCalendar:
    """The work calendar with config's `[calendar]` overrides."""
    try:
        return calendar_from_config(config.extra.get("calendar", {}))
    except CalendarError as exc:
        raise ConfigError(str(exc)) from exc


def unit_records(config: Config) -> tuple[UnitRecord, ...]:
    """Every configured unit, in the order of config.toml (the order notices list them in)."""
    return tuple(UnitRecord(u.name, u.group, i) for i, u in enumerate(config.units))


def rules_at(config: Config, moment: datetime, group: str) -> RuleSet:
    """The rules a unit of `group` is held to for something that happened at `moment`."""
    return load_profile(config).rules(month_of(moment), group)


def articles(config: Config, moment: datetime, group: str) -> tuple[Article, ...]:
    """The annual article kinds (subject tags 【调研】, 【经验】, …) in force at `moment`."""
    return rules_at(config, moment, group).articles


def quotas(config: Config, moment: datetime, group: str) -> tuple[int, int]:
    """The weekly and monthly number of drafts required of a unit of `group`, as of `moment`."""
    profile = load_profile(config)
    week = profile.rules(month_of_week(week_of(moment)), group).week
    month = profile.rules(month_of(moment), group).month
    return week.required, month.required


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

    def extra(self) -> dict[str, object]:
        """The keyword arguments of score_month / score_year beyond the ledger's core records."""
        return {
            "solicitations": self.solicitations,
            "responses": self.responses,
            "columns_from": self.columns_from,
        }


def year_period(year: int) -> Period:
    start = datetime.combine(date(year, 1, 1), time.min, tzinfo=SHANGHAI)
    end = datetime.combine(date(year + 1, 1, 1), time.min, tzinfo=SHANGHAI)
    return Period(str(year), start, end)


def load_records(s: Session, config: Config, period: Period) -> Records:
    """The records scoring needs for `period` (a year, or a week for quotas).

    Submissions received in the period, plus older ones adopted or entered in it (a May draft
    adopted in July scores in July); adoptions (revoked ones too: scoring skips them) and office
    entries dated in it; imported history for its months.
    """
    start, end = period.start, period.end
    first, last = start.astimezone(SHANGHAI).date(), end.astimezone(SHANGHAI).date()
    adoptions = s.exec(select(Adoption).where(Adoption.adopted_at >= start, Adoption.adopted_at < end)).all()
    entries = s.exec(select(Entry).where(Entry.period >= first, Entry.period < last)).all()
    sols = s.exec(
        select(Solicitation).where(Solicitation.deadline >= first, Solicitation.deadline < last)
    ).all()
    responses = s.exec(
        select(SolicitationResponse).where(
            col(SolicitationResponse.solicitation_id).in_([x.id for x in sols])
        )
    ).all()
    linked = {a.submission_id for a in adoptions} | {e.submission_id for e in entries if e.submission_id}
    linked |= {r.submission_id for r in responses}
    # Plain columns, not ORM objects: a province's year is 100,000 drafts, and building an ORM
    # instance per row cost ten times the scoring itself (benchmarks/scoring.py).
    wanted = or_(
        (col(Submission.received_at) >= start) & (col(Submission.received_at) < end),
        col(Submission.id).in_(linked),
    )
    subs = (
        s.connection()
        .execute(
            sa.select(
                col(Submission.id),
                col(Submission.unit_id),
                col(Submission.title),
                col(Submission.received_at),
                col(Submission.status),
                col(Submission.category),
                col(Submission.chars),
            )
            .where(wanted)
            .order_by(col(Submission.received_at), col(Submission.id))
        )
        .all()
    )
    units = {u.id: u.name for u in s.exec(select(Unit))}
    authors: dict[int, list[AuthorRecord]] = defaultdict(list)
    for sub_id, name, unit_id in s.exec(
        select(SubmissionAuthor.submission_id, SubmissionAuthor.name, SubmissionAuthor.unit_id)
        .where(col(SubmissionAuthor.submission_id).in_(select(Submission.id).where(wanted)))
        .order_by(col(SubmissionAuthor.submission_id), col(SubmissionAuthor.position))
    ):
        authors[sub_id].append(AuthorRecord(name, units.get(unit_id)))
    history = s.exec(select(History).where(History.month >= first, History.month < last)).all()
    return Records(
        units=unit_records(config),
        submissions=tuple(
            SubmissionRecord(
                id=sub_id,
                unit=units.get(unit_id),
                title=title,
                received_at=received_at,
                status=status.value,
                category=category,
                chars=chars,
                authors=tuple(authors.get(sub_id, ())),
            )
            for sub_id, unit_id, title, received_at, status, category, chars in subs
            if sub_id is not None
        ),
        adoptions=tuple(
            AdoptionRecord(a.id or 0, a.submission_id, a.channel, a.adopted_at, a.revoked_at)
            for a in adoptions
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
        columns_from=columns_from(config),
    )


def _decimal(value: Decimal | None) -> Decimal | None:
    # Both backends hand NUMERIC(10, 4) back as Decimal at the column's scale (0.3000).
    return None if value is None else Decimal(value).quantize(Decimal("0.0001"))
