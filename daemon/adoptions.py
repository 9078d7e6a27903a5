"""Adoptions (采用): the records, title matching, and recording or revoking one by hand.

A draft is named by its submission id or by its title; titles are matched fuzzily (rapidfuzz) to
accepted drafts, because bulletins print edited titles ("标题（单位）"). A line matches when one
draft is clearly closest; several close drafts make it ambiguous and nothing is recorded for it.
Recording is idempotent: a draft already adopted by a channel (and not revoked) is not adopted by
it again, so the same bulletin or sheet twice records nothing new. Revoking keeps the row.
The office's emailed bulletin (daemon.bulletin) and spreadsheets (daemon.adoption_sheet) build on this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from rapidfuzz import fuzz
from sqlmodel import Session, col, select

from daemon import ledger
from daemon.config import Config
from daemon.history import header_key
from daemon.models import Adoption, Submission, SubmissionStatus, Unit
from daemon.scoring_io import load_profile
from scoring.periods import SHANGHAI, month_of
from scoring.profile import Channel, ProfileError, RuleSet

# `--level` may be written in Chinese too.
LEVEL_WORDS = {"市级": "municipal", "省级": "provincial", "国家级": "national"}
# A bulletin may list drafts of the past year; older ones are not offered as matches.
MATCH_WINDOW = timedelta(days=400)
MATCH = 85.0  # at least this similar (0–100) …
MARGIN = 8.0  # … and this much closer than the next draft, to match without asking
CANDIDATE = 60.0  # drafts at least this similar are offered when a line is ambiguous

# "1、" "2." "（三）" "-": list numbering, not "3.15" that opens a title.
_NUMBERING = re.compile(
    r"^\s*(?:[（(][0-9一二三四五六七八九十]+[)）]|[0-9０-９一二三四五六七八九十]+(?:[、．)）]|\.(?![0-9]))|[-*•·●])\s*"
)
_UNIT_SUFFIX = re.compile(r"^(?P<title>.+?)\s*[（(](?P<unit>[^（）()]+)[）)]\s*$")


class AdoptionError(Exception):
    """An adoption that cannot be recorded or revoked; the message is Chinese."""


@dataclass(frozen=True)
class Candidate:
    """An accepted draft a title may name."""

    id: int
    title: str
    unit: str | None
    received_at: datetime


@dataclass(frozen=True)
class Matched:
    line: str  # as written in the bulletin or sheet
    submission: Candidate
    channel: str  # the channel's label
    created: bool  # False: the draft was already adopted by this channel


@dataclass(frozen=True)
class Ambiguous:
    line: str
    candidates: tuple[Candidate, ...]  # closest first


@dataclass(frozen=True)
class Unmatched:
    line: str
    reason: str


@dataclass
class BulletinResult:
    """What a bulletin or an imported sheet did, line by line."""

    matched: list[Matched] = field(default_factory=list)
    ambiguous: list[Ambiguous] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    channel: Channel | None = None  # a bulletin's channel, when it named one

    @property
    def recorded(self) -> int:
        return sum(1 for m in self.matched if m.created)


def at_noon(day: date) -> datetime:
    """An adoption dated by day only: midday in the bureau's time zone."""
    return datetime.combine(day, time(12), tzinfo=SHANGHAI)


def resolve_channel(rules: RuleSet, *, level: str | None, channel: str | None) -> Channel:
    """The channel `--channel` (a name or label) or `--level` names; ProfileError otherwise."""
    if channel is not None:
        key = header_key(channel)
        found = next((c for c in rules.channels if key in (header_key(c.name), header_key(c.label))), None)
        if found is None:
            return rules.resolve_channel(channel=channel)
        if level is not None and LEVEL_WORDS.get(level, level) != found.level:
            raise ProfileError(f"采用渠道“{found.name}”的级别是 {found.level}，不是 {level}")
        return found
    if level is None:
        raise ProfileError("请用 --level 或 --channel 指定采用渠道")
    if level not in {c.level for c in rules.channels}:
        level = LEVEL_WORDS.get(level, level)
    return rules.resolve_channel(level=level)


def adopt(
    s: Session,
    config: Config,
    *,
    submission_id: int,
    level: str | None = None,
    channel: str | None = None,
    adopted_at: datetime,
    now: datetime,
    created_by: str = "",
    note: str = "",
) -> Matched:
    """Record that a channel took a draft (unless it already stands); AdoptionError if it cannot."""
    sub = s.get(Submission, submission_id)
    if sub is None or sub.id is None:
        raise AdoptionError(f"没有编号为 {submission_id} 的稿件")
    if sub.status != SubmissionStatus.ACCEPTED:
        raise AdoptionError(f"稿件 #{sub.id}《{sub.title}》状态为 {sub.status.value}，不计分，不能登记采用")
    unit = s.get(Unit, sub.unit_id) if sub.unit_id is not None else None
    rules = load_profile(config).rules(month_of(adopted_at), unit.group if unit else "")
    try:
        found = resolve_channel(rules, level=level, channel=channel)
    except ProfileError as exc:
        raise AdoptionError(str(exc)) from exc
    candidate = Candidate(sub.id, sub.title, unit.name if unit else None, sub.received_at)
    standing = s.exec(
        select(Adoption).where(
            Adoption.submission_id == sub.id,
            Adoption.channel == found.name,
            col(Adoption.revoked_at).is_(None),
        )
    ).first()
    if standing is not None:
        return Matched(note or f"#{sub.id}", candidate, found.label, created=False)
    s.add(
        Adoption(
            submission_id=sub.id,
            channel=found.name,
            level=found.level,
            adopted_at=adopted_at,
            note=note,
            created_by=created_by,
            created_at=now,
        )
    )
    s.flush()
    return Matched(note or f"#{sub.id}", candidate, found.label, created=True)


def revoke(
    s: Session, *, submission_id: int, level: str | None = None, channel: str | None = None, now: datetime
) -> list[Adoption]:
    """Revoke a draft's standing adoption(s) of `channel` / `level` (the only one, if neither is given)."""
    sub = s.get(Submission, submission_id)
    if sub is None:
        raise AdoptionError(f"没有编号为 {submission_id} 的稿件")
    standing = list(
        s.exec(
            select(Adoption)
            .where(Adoption.submission_id == submission_id, col(Adoption.revoked_at).is_(None))
            .order_by(col(Adoption.id))
        )
    )
    if channel is not None:
        key = header_key(channel)
        standing = [a for a in standing if header_key(a.channel) == key]
    if level is not None:
        standing = [a for a in standing if a.level == LEVEL_WORDS.get(level, level)]
    if not standing:
        raise AdoptionError(f"稿件 #{submission_id}《{sub.title}》没有可撤销的采用记录")
    if len(standing) > 1 and channel is None:
        names = "、".join(a.channel for a in standing)
        raise AdoptionError(f"稿件 #{submission_id} 有多条采用记录（{names}），请用 --channel 指定撤销哪一条")
    for a in standing:
        a.revoked_at = now
    s.flush()
    return standing


def candidates(s: Session, *, before: datetime, since: datetime | None = None) -> list[Candidate]:
    """Accepted drafts received before `before` (and since `since`): what a title may name."""
    units = {u.id: u.name for u in s.exec(select(Unit))}
    stmt = select(Submission).where(
        Submission.status == SubmissionStatus.ACCEPTED, Submission.received_at <= before
    )
    if since is not None:
        stmt = stmt.where(Submission.received_at >= since)
    rows = s.exec(stmt.order_by(col(Submission.received_at), col(Submission.id)))
    return [Candidate(x.id, x.title, units.get(x.unit_id), x.received_at) for x in rows if x.id is not None]


def match_title(
    title: str, unit: str | None, pool: list[Candidate], *, adopted_at: datetime
) -> list[tuple[Candidate, float]]:
    """The drafts `title` may name, closest first: one entry means a match, several an ambiguity.

    Only drafts received in the MATCH_WINDOW before the adoption are considered, so last June's
    “安全生产月” article does not compete with this June's.
    """
    key = ledger.normalize_title(title)
    if not key:
        return []
    pool = [c for c in pool if adopted_at - MATCH_WINDOW <= c.received_at <= adopted_at]
    if unit is not None:
        pool = [c for c in pool if c.unit == unit]
    scored = sorted(
        ((c, fuzz.ratio(key, ledger.normalize_title(c.title))) for c in pool),
        key=lambda pair: (-pair[1], pair[0].id),
    )
    exact = [pair for pair in scored if pair[1] == 100]
    if exact:
        return exact
    close = [pair for pair in scored if pair[1] >= CANDIDATE][:5]
    if close and close[0][1] >= MATCH and (len(close) == 1 or close[0][1] - close[1][1] >= MARGIN):
        return close[:1]
    # Nothing clearly closest: offer every close draft (a lone one below MATCH is offered too).
    return close


def split_line(s: Session, line: str) -> tuple[str, str | None]:
    """A bulletin line or sheet title as (title, unit): numbering and 《》 dropped, "（单位）" kept if it names a unit."""
    text = _NUMBERING.sub("", line.strip(), count=1).strip()
    unit = None
    found = _UNIT_SUFFIX.match(text)
    if found is not None:
        named = ledger.unit_by_name_or_alias(s, found["unit"])
        if named is not None:
            text, unit = found["title"], named.name
    return text.strip().strip('《》〈〉"“”').strip(), unit


def record_line(
    s: Session,
    config: Config,
    result: BulletinResult,
    line: str,
    found: list[tuple[Candidate, float]],
    *,
    channel: Channel | None,
    adopted_at: datetime,
    now: datetime,
    created_by: str,
) -> None:
    """Add `line` to `result`: adopted by `channel` if `found` is one clear match, else why not."""
    if not found:
        result.unmatched.append(Unmatched(line, "没有找到标题相近的稿件"))
    elif len(found) > 1 or found[0][1] < MATCH:
        result.ambiguous.append(Ambiguous(line, tuple(c for c, _ in found)))
    elif channel is None:
        result.unmatched.append(
            Unmatched(line, "未能确定采用渠道（请在主题或通报中注明，如“市政府政务信息”）")
        )
    else:
        try:
            matched = adopt(
                s,
                config,
                submission_id=found[0][0].id,
                channel=channel.name,
                adopted_at=adopted_at,
                now=now,
                created_by=created_by,
                note=line,
            )
        except AdoptionError as exc:
            result.unmatched.append(Unmatched(line, str(exc)))
            return
        result.matched.append(matched)
