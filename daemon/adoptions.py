"""Adoptions (采用): by hand, from a spreadsheet, or from the office's emailed bulletin.

A draft is named by its submission id or by its title; titles are matched fuzzily (rapidfuzz) to
accepted drafts, because bulletins print edited titles ("标题（单位）"). A line matches when one
draft is clearly closest; several close drafts make it ambiguous and nothing is recorded for it.
Recording is idempotent: a draft already adopted by a channel (and not revoked) is not adopted by
it again, so the same bulletin or sheet twice records nothing new. Revoking keeps the row.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from rapidfuzz import fuzz
from sqlmodel import Session, col, select

from daemon import ledger
from daemon.config import Config
from daemon.history import Cell, HistoryError, find_header, header_key, read_sheet
from daemon.models import Adoption, Submission, SubmissionStatus, Unit
from daemon.scoring_io import load_profile
from outbox.render import Rendered, render
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
    """A bulletin line as (title, unit): numbering and 《》 dropped, "（单位）" kept if it names a unit."""
    text = _NUMBERING.sub("", line.strip(), count=1).strip()
    unit = None
    found = _UNIT_SUFFIX.match(text)
    if found is not None:
        named = ledger.unit_by_name_or_alias(s, found["unit"])
        if named is not None:
            text, unit = found["title"], named.name
    return text.strip().strip('《》〈〉"“”').strip(), unit


def _record(
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


def channel_named(rules: RuleSet, text: str, *, heading: bool) -> Channel | None:
    """The channel `text` names: anywhere in a subject; a bulletin line only if it is a heading."""
    key = header_key(text)
    keys = [(header_key(k), c) for c in rules.channels for k in (c.name, c.label)]
    keys += [(header_key(w), c) for w, lvl in LEVEL_WORDS.items() for c in rules.channels if c.level == lvl]
    if heading:
        key = re.sub(r"(采用情况|采用)$", "", key)
        hits = [c for k, c in keys if k == key]
    else:
        # The longest name found wins: 市政府政务信息 over a level word inside a longer phrase.
        found = [(k, c) for k, c in keys if k and k in key]
        longest = max((len(k) for k, _ in found), default=0)
        hits = [c for k, c in found if len(k) == longest]
    distinct = list(dict.fromkeys(hits))
    return distinct[0] if len(distinct) == 1 else None


def handle_bulletin(
    s: Session,
    config: Config,
    text_lines: Iterable[str],
    *,
    now: datetime,
    subject: str = "",
    channel: str | None = None,
    level: str | None = None,
    adopted_at: datetime | None = None,
    sender: str = "",
) -> BulletinResult:
    """Record the adoptions an office bulletin lists, one title per line (“标题（单位）”).

    The channel comes from `channel`/`level`, else from the subject (【采用】市政府政务信息…); a
    heading line (“省级：”) switches it for the lines below. Adoptions are dated `adopted_at`
    (default: `now`, when the bulletin came).
    """
    when = adopted_at or now
    rules = load_profile(config).rules(month_of(when), "")
    result = BulletinResult()
    try:
        current = resolve_channel(rules, level=level, channel=channel) if channel or level else None
    except ProfileError as exc:
        raise AdoptionError(str(exc)) from exc
    current = current or channel_named(rules, subject, heading=False)
    result.channel = current
    pool = candidates(s, before=when, since=when - MATCH_WINDOW)
    for raw in text_lines:
        line = raw.strip()
        if not line:
            continue
        # A heading ("省级采用：", "市政府《政务信息》第12期：") switches the channel below it.
        if line.endswith((":", "：")):
            current = channel_named(rules, line, heading=False) or current
            continue
        named = channel_named(rules, line, heading=True)
        if named is not None:
            current = named
            continue
        title, unit = split_line(s, line)
        found = match_title(title, unit, pool, adopted_at=when)
        _record(
            s,
            config,
            result,
            line,
            found,
            channel=current,
            adopted_at=when,
            now=now,
            created_by=f"bulletin:{sender}",
        )
    return result


def bulletin_reply(result: BulletinResult, *, config: Config, subject: str, now: datetime) -> Rendered:
    """The reply to the office: matched, ambiguous and unmatched lines (office/adoption_bulletin)."""
    return render(
        "office/adoption_bulletin",
        result=result,
        channel=result.channel.label if result.channel else None,
        received_subject=subject,
        office_name=config.office.name,
        today=now,
    )


_ID = {"编号", "稿件编号", "id"}
_TITLE = {"标题", "稿件标题", "题目", "title"}
_UNIT = {"单位", "报送单位", "unit"}
_LEVEL = {"级别", "采用级别", "level"}
_CHANNEL = {"渠道", "采用渠道", "刊物", "采用刊物", "channel"}
_DATE = {"日期", "采用日期", "adopted_at", "date"}


def import_file(
    s: Session,
    config: Config,
    path: Path,
    *,
    level: str | None = None,
    channel: str | None = None,
    adopted_at: datetime | None = None,
    now: datetime,
) -> BulletinResult:
    """`adopt import FILE`: one adoption per row, by 编号 (submission id) or 标题 (fuzzy title).

    Columns 级别 / 渠道 / 采用日期 are optional; `level`, `channel`, `adopted_at` fill them in.
    """
    try:
        rows = read_sheet(path)
        start = find_header(rows, _ID | _TITLE)
    except HistoryError as exc:
        raise AdoptionError(str(exc)) from exc
    keys = [header_key(c) for c in rows[start][1]]
    roles = {"id": _ID, "title": _TITLE, "unit": _UNIT, "level": _LEVEL, "channel": _CHANNEL, "date": _DATE}
    cols = {
        role: next((i for i, k in enumerate(keys) if k in {header_key(n) for n in names}), None)
        for role, names in roles.items()
    }
    result = BulletinResult()
    pool = candidates(s, before=now)
    for number, row in rows[start + 1 :]:
        if not any(str(c or "").strip() for c in row):
            continue
        cells = {role: row[i] if i is not None and i < len(row) else None for role, i in cols.items()}
        text = {role: str(value or "").strip() for role, value in cells.items()}
        line = f"第{number}行：" + (f"#{text['id']}" if text["id"] else text["title"])
        try:
            when = _when(cells["date"]) or adopted_at or now
        except ValueError:
            result.unmatched.append(Unmatched(line, f"采用日期“{text['date']}”无法识别"))
            continue
        row_level, row_channel = text["level"] or level, text["channel"] or channel
        if text["id"]:
            if not text["id"].removesuffix(".0").isdigit():
                result.unmatched.append(Unmatched(line, f"编号“{text['id']}”不是数字"))
                continue
            try:
                matched = adopt(
                    s,
                    config,
                    submission_id=int(text["id"].removesuffix(".0")),
                    level=row_level,
                    channel=row_channel,
                    adopted_at=when,
                    now=now,
                    created_by=f"import:{path.name}",
                    note=line,
                )
            except AdoptionError as exc:
                result.unmatched.append(Unmatched(line, str(exc)))
                continue
            result.matched.append(matched)
            continue
        try:
            target = resolve_channel(
                load_profile(config).rules(month_of(when), ""), level=row_level, channel=row_channel
            )
        except ProfileError as exc:
            result.unmatched.append(Unmatched(line, str(exc)))
            continue
        title, unit = split_line(s, text["title"])
        named = ledger.unit_by_name_or_alias(s, text["unit"]) if text["unit"] else None
        found = match_title(title, named.name if named else unit, pool, adopted_at=when)
        _record(
            s,
            config,
            result,
            line,
            found,
            channel=target,
            adopted_at=when,
            now=now,
            created_by=f"import:{path.name}",
        )
    return result


def _when(value: Cell) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    if isinstance(value, date):
        return at_noon(value)
    found = re.match(r"^\s*(\d{4})\D+(\d{1,2})\D+(\d{1,2})", str(value or ""))
    return at_noon(date(int(found[1]), int(found[2]), int(found[3]))) if found else None
