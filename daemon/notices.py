"""The weekly shortfall reminder and the monthly notice (二、(四) 定期通报): when, what, to whom.

config.toml:

    [schedule]
    weekly_reminder = "15:00"     # last workday of each ISO week; weeks without workdays are skipped
    monthly_notice = "09:00"      # first workday of each month, for the month before
    remind_publicists = false     # also remind the publicist of each unit short of the week's quota
    enabled = true                # false: only `xinbao notice` / `xinbao remind` send them

    [notice]
    order = "config"              # table order: "config" (config.toml's) or "score" (highest first)
    praise = 3                    # praise the best N units that met every quota (ties included)
    addressed_to = "各县区应急局，经济区应急部、机关各科室、服务中心及执法队："  # 主送机关 line

Whether a run is due is decided from the outbox keys in the ledger (`weekly_shortfall|2025-W25|…`,
`notice|2025-06|…`), never from scheduler state: a run missed while the daemon was down is due
when it starts, once, and only the latest missed run of each kind is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from daemon import scoring_io
from daemon.config import Config, ConfigError
from daemon.db import session
from daemon.models import Message
from outbox.table import Outbox
from scoring.calendar import WorkCalendar
from scoring.periods import SHANGHAI, Period, month_of, parse_month, parse_week, week_of

if TYPE_CHECKING:
    from outbox.notice import Notice

__all__ = [
    "NoticeError",
    "Schedule",
    "build_notice_for",
    "done_periods",
    "due_monthly",
    "due_weekly",
    "queue_notice",
    "queue_weekly",
    "render_notice_files",
    "run_due",
    "schedule_from_config",
    "write_notice",
]

log = logging.getLogger(__name__)

WEEKLY_KIND, NOTICE_KIND = "weekly_shortfall", "notice"


class NoticeError(Exception):
    """A notice that cannot be made (a month not over, nothing to correct); the message is Chinese."""


# The mail, .docx and .xlsx machinery (python-docx, openpyxl) loads on first use: the pipeline
# imports this module for answer_details, and most mail is not a 明细 request.


def build_notice_for(
    s: Session, config: Config, month: Period, *, now: datetime, correct: bool = False
) -> Notice:
    """The notice of `month` from the ledger as it stands; `correct`: a correction of the last one sent."""
    from daemon import notice_mail

    return notice_mail.build_notice_for(s, config, month, now=now, correct=correct)


def queue_notice(s: Session, config: Config, notice: Notice, *, now: datetime) -> int:
    """Queue one copy per recipient (office, then publicists); the number of rows added."""
    from daemon import notice_mail

    return notice_mail.queue_notice(s, config, notice, now=now)


def render_notice_files(notice: Notice) -> dict[str, bytes]:
    """{file name: bytes} of the .docx, .xlsx, .html and .txt."""
    from daemon import notice_mail

    return notice_mail.render_notice_files(notice)


def queue_weekly(
    s: Session, config: Config, week: Period, *, now: datetime, remind_publicists: bool = False
) -> int:
    """Queue the office's weekly reminder (and the lagging units' reminders); rows added."""
    from daemon import notice_mail

    return notice_mail.queue_weekly(s, config, week, now=now, remind_publicists=remind_publicists)


@dataclass(frozen=True)
class Schedule:
    """`[schedule]` of config.toml."""

    enabled: bool = True
    weekly_reminder: time = time(15)
    monthly_notice: time = time(9)
    remind_publicists: bool = False


def schedule_from_config(config: Config) -> Schedule:
    raw = config.extra.get("schedule", {})
    if not isinstance(raw, dict):
        raise ConfigError("配置 [schedule] 应为一个表")
    unknown = sorted(set(raw) - {"enabled", "weekly_reminder", "monthly_notice", "remind_publicists"})
    if unknown:
        raise ConfigError(f"配置 [schedule] 中有无法识别的项：{', '.join(unknown)}")
    values: dict[str, Any] = {}
    for key in ("weekly_reminder", "monthly_notice"):
        if key in raw:
            values[key] = _clock_time(raw[key], key)
    for key in ("enabled", "remind_publicists"):
        if key in raw:
            if not isinstance(raw[key], bool):
                raise ConfigError(f"配置 [schedule] {key} 应为 true 或 false")
            values[key] = raw[key]
    return Schedule(**values)


def _clock_time(value: object, key: str) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f'配置 [schedule] {key} 应为时刻，如 "15:00"') from None


def _at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=SHANGHAI)


def weekly_moment(week: Period, calendar: WorkCalendar, at: time) -> datetime | None:
    """When `week`'s reminder is due: its last workday at `at`; None for a week without workdays."""
    days = calendar.workdays(week)
    return _at(days[-1], at) if days else None


def monthly_moment(month: Period, calendar: WorkCalendar, at: time) -> datetime:
    """When the notice of the month before `month` is due: `month`'s first workday at `at`."""
    days = calendar.workdays(month)
    first = days[0] if days else month.start.astimezone(SHANGHAI).date()
    return _at(first, at)


def due_weekly(
    now: datetime, calendar: WorkCalendar, done: Collection[str], *, at: time = time(15)
) -> str | None:
    """The week (2025-W25) whose reminder is due at `now` and not yet queued, else None.

    Only the latest reminder that has come due counts: after downtime the last missed week is
    sent once, older ones are stale. Weeks without workdays (the Spring Festival) have none.
    """
    week = week_of(now)
    for _ in range(8):  # a run of weeks without a workday is never this long
        moment = weekly_moment(week, calendar, at)
        if moment is not None and moment <= now:
            return None if week.label in done else week.label
        week = week_of(week.start - timedelta(days=1))
    return None


def due_monthly(
    now: datetime, calendar: WorkCalendar, done: Collection[str], *, at: time = time(9)
) -> str | None:
    """The month (2025-06) whose notice is due at `now` and not yet queued, else None.

    The notice of a month is due on the next month's first workday at `at` (2025-10-09 for
    September 2025, after the National Day holiday). Only the latest due notice counts.
    """
    month = month_of(now)
    if monthly_moment(month, calendar, at) > now:
        month = month_of(month.start - timedelta(days=1))
    previous = month_of(month.start - timedelta(days=1))
    return None if previous.label in done else previous.label


def done_periods(s: Session, kind: str) -> set[str]:
    """The periods that have outbox rows of `kind` (any recipient): key `kind|period|recipient`."""
    keys = s.exec(select(Outbox.key).where(Outbox.kind == kind)).all()
    return {key.split("|")[1] for key in keys}


def run_due(engine: Engine, config: Config, *, now: datetime) -> list[str]:
    """The scheduler's job: queue whatever reminder or notice is due; idempotent by outbox key.

    A period that ended before the first mail the ledger ever recorded is skipped: a new
    installation does not notify the months before it was in use.
    """
    schedule = schedule_from_config(config)
    if not schedule.enabled:
        return []
    calendar = scoring_io.load_calendar(config)
    queued = []
    with session(engine) as s:
        started = s.exec(select(func.min(Message.internaldate))).one()
        week = due_weekly(now, calendar, done_periods(s, WEEKLY_KIND), at=schedule.weekly_reminder)
        if week is not None and config.office.emails and _in_use(parse_week(week), started):
            rows = queue_weekly(
                s, config, parse_week(week), now=now, remind_publicists=schedule.remind_publicists
            )
            log.info("weekly reminder for %s queued (%d messages)", week, rows)
            queued.append(week)
    with session(engine) as s:
        month = due_monthly(now, calendar, done_periods(s, NOTICE_KIND), at=schedule.monthly_notice)
        if month is not None and recipients_exist(config) and _in_use(parse_month(month), started):
            notice = build_notice_for(s, config, parse_month(month), now=now)
            rows = queue_notice(s, config, notice, now=now)
            log.info("monthly notice for %s queued (%d messages)", month, rows)
            queued.append(month)
    return queued


def _in_use(period: Period, started: datetime | None) -> bool:
    return started is not None and period.end > started


def recipients_exist(config: Config) -> bool:
    return bool(config.office.emails or config.publicists)


def write_notice(files: dict[str, bytes], out: Path) -> list[Path]:
    """Write rendered notice files into `out` (created if needed); the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in files.items():
        path = out / name
        path.write_bytes(data)
        paths.append(path)
    return paths
