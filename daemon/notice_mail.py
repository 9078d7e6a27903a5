"""Build, render and queue the monthly notice and the weekly reminder from the ledger.

Everything here only *enqueues* (outbox rows in the caller's transaction). A notice goes to the
office and every publicist, one row each, key `notice|2025-06|addr` (a correction:
`notice_correction|2025-06#1|addr`); the weekly reminder goes to the office,
`weekly_shortfall|2025-W25|addr`, and optionally to lagging units' publicists,
`weekly_reminder|2025-W25|addr`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from typing import Any, Literal, cast

import sqlalchemy as sa
from sqlmodel import Session, col, select

from daemon import records_io, scoring_io
from daemon.config import Config, ConfigError
from daemon.models import Message, MessageState, Submission, SubmissionStatus
from daemon.notices import NoticeError
from outbox.notice import FOOTNOTE, RECIPIENTS, Notice, build_notice
from outbox.notice_docx import notice_docx
from outbox.notice_xlsx import Snapshot, changes, notice_xlsx, read_snapshot
from outbox.render import Rendered, render
from outbox.table import Outbox
from scoring.engine import score_month
from scoring.periods import Period, day_of, month_of
from scoring.quota import month_quota, week_quota
from scoring.results import MonthScores, format_points

log = logging.getLogger(__name__)

DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")
XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
WAITING_DAYS = 31  # how far back the weekly reminder looks for mail waiting for the office


@dataclass(frozen=True)
class NoticeOptions:
    """`[notice]` of config.toml."""

    order: Literal["config", "score"] = "config"
    praise: int = 3
    recipients: str = RECIPIENTS


def options_from_config(config: Config) -> NoticeOptions:
    raw = config.extra.get("notice", {})
    if not isinstance(raw, dict):
        raise ConfigError("配置 [notice] 应为一个表")
    unknown = sorted(set(raw) - {"order", "praise", "addressed_to"})
    if unknown:
        raise ConfigError(f"配置 [notice] 中有无法识别的项：{', '.join(unknown)}")
    order = raw.get("order", "config")
    if order not in ("config", "score"):
        raise ConfigError('配置 [notice] order 应为 "config"（按配置顺序）或 "score"（按得分）')
    praise = raw.get("praise", 3)
    if not isinstance(praise, int) or praise < 0:
        raise ConfigError("配置 [notice] praise 应为不小于 0 的整数")
    return NoticeOptions(order=order, praise=praise, recipients=str(raw.get("addressed_to", RECIPIENTS)))


def recipients(config: Config) -> list[str]:
    """The office, then every publicist; each address once."""
    seen: dict[str, str] = {}
    for address in (*config.office.emails, *(p.email for p in config.publicists)):
        seen.setdefault(address.lower(), address)
    return list(seen.values())


def month_scores(
    s: Session, config: Config, month: Period, *, now: datetime
) -> tuple[MonthScores, records_io.Records]:
    """The month's scores as `xinbao scores` computes them, and the records they came from.

    The other months' plain drafts come as tallies (records_io.load_month_records).
    """
    records = records_io.load_month_records(s, config, month)
    calendar = scoring_io.load_calendar(config)
    scores = score_month(
        month=month,
        profile=scoring_io.load_profile(config),
        calendar=calendar,
        now=now,
        **records.engine_args(),
    )
    for warning in dict.fromkeys((*scores.warnings, *calendar.warnings)):
        log.warning(warning)
    return scores, records


def build_notice_for(
    s: Session, config: Config, month: Period, *, now: datetime, correct: bool = False
) -> Notice:
    """The notice of `month` from the ledger as it stands; `correct`: a correction of the last one."""
    if month.end > now:
        raise NoticeError(f"{_cn_month(month)}尚未结束，不能通报")
    options = options_from_config(config)
    scores, records = month_scores(s, config, month, now=now)
    notice = build_notice(
        scores=scores,
        submissions=records.submissions,
        adoptions=records.adoptions,
        profile=scoring_io.load_profile(config),
        calendar=scoring_io.load_calendar(config),
        bureau=config.office.bureau,
        office=config.office.name,
        issued=day_of(now),
        now=now,
        order=options.order,
        praise=options.praise,
        recipients=options.recipients,
        tallies=records.tallies,
    )
    if not correct:
        return notice
    found = last_notice(s, month.label)
    if found is None:
        raise NoticeError(f"尚未发出{_cn_month(month)}的通报，无需更正（请先发出通报）")
    previous, number = found
    notice = replace(notice, correction=number + 1, corrects=previous.issued)
    changed = changes(previous, notice)
    if not changed:
        raise NoticeError(f"与上次发出的{_cn_month(month)}通报相比没有变化，无需更正")
    return replace(notice, changes=changed)


def _cn_month(month: Period) -> str:
    first = day_of(month.start)
    return f"{first.year}年{first.month}月"


_CORRECTION = re.compile(r"^notice_correction\|(?P<month>\d{4}-\d{2})#(?P<n>\d+)\|")


def of_notice(month: str) -> sa.ColumnElement[bool]:
    """Outbox rows of `month`'s notice (2025-06) and of its corrections, by their keys."""
    return col(Outbox.key).startswith(f"notice|{month}|") | col(Outbox.key).startswith(
        f"notice_correction|{month}#"
    )


def last_notice(s: Session, month: str) -> tuple[Snapshot, int] | None:
    """What the latest notice of `month` announced (read from its .xlsx) and its correction number."""
    rows = s.exec(select(Outbox).where(of_notice(month))).all()
    if not rows:
        return None

    def number(row: Outbox) -> int:
        m = _CORRECTION.match(row.key)
        return int(m["n"]) if m else 0

    latest = max(rows, key=lambda r: (number(r), r.id or 0))
    parsed = message_from_bytes(latest.raw, policy=policy.default)
    for part in parsed.iter_attachments():
        if (part.get_filename() or "").endswith(".xlsx"):
            return read_snapshot(cast(bytes, part.get_content())), number(latest)
    raise NoticeError(f"无法读取上次通报的统计表（发件队列第 {latest.id} 条）")


def notice_key(notice: Notice, to: str) -> tuple[str, str]:
    """(kind, key) of one recipient's copy of `notice`."""
    if notice.correction:
        return "notice_correction", f"notice_correction|{notice.month.label}#{notice.correction}|{to}"
    return "notice", f"notice|{notice.month.label}|{to}"


def render_notice(notice: Notice) -> Rendered:
    return render(
        "all/monthly_notice",
        notice=notice,
        fmt=format_points,
        footnote=FOOTNOTE,
        office_name=notice.office,
        today=notice.issued,
    )


def render_notice_files(notice: Notice) -> dict[str, bytes]:
    """The notice as files: .docx, .xlsx, and the mail's .html and .txt."""
    mail = render_notice(notice)
    return {
        f"{notice.filename}.docx": notice_docx(notice),
        f"{notice.filename}.xlsx": notice_xlsx(notice),
        f"{notice.filename}.html": (mail.html or "").encode("utf-8"),
        f"{notice.filename}.txt": f"{mail.subject}\n\n{mail.text}".encode(),
    }


def queue_notice(s: Session, config: Config, notice: Notice, *, now: datetime) -> int:
    """Queue one copy of `notice` per recipient; the number of rows added (0 if all were queued)."""
    # The mail stack (composing, receipts) loads here: `notice monthly` without --send needs none.
    from daemon.replies import queue_mail
    from outbox.compose import Attachment

    mail = render_notice(notice)
    attachments = (
        Attachment(f"{notice.filename}.docx", notice_docx(notice), *DOCX),
        Attachment(f"{notice.filename}.xlsx", notice_xlsx(notice), *XLSX),
    )
    added = 0
    for to in recipients(config):
        kind, key = notice_key(notice, to)
        added += queue_mail(s, config, mail, kind=kind, key=key, to=to, now=now, attachments=attachments)
    return added


def weekly_context(s: Session, config: Config, week: Period, *, now: datetime) -> dict[str, Any]:
    """What the weekly reminder says about `week`, as of `now` (or the week's end, if earlier)."""
    # Lazily: the grading module brings the reply machinery, which `quota` does not need.
    from daemon.grading import ungraded

    as_of = min(now, week.end)
    month = month_of(as_of - timedelta(microseconds=1))
    span = Period("", min(week.start, month.start), max(week.end, month.end))
    records = records_io.load_records(s, config, span)
    calendar = scoring_io.load_calendar(config)
    profile = scoring_io.load_profile(config)
    common: dict[str, Any] = {
        "units": records.units,
        "submissions": records.submissions,
        "profile": profile,
        "calendar": calendar,
    }
    weekly = week_quota(week=week, **common)
    monthly = {r.unit: r for r in month_quota(month=month, **common).units}
    rows = [
        {
            "unit": r.unit,
            "week": r.submitted,
            "week_required": r.required,
            "month": monthly[r.unit].submitted,
            "month_required": monthly[r.unit].required,
            "short": r.short > 0,
        }
        for r in weekly.units
    ]
    # Column shortfalls are the month's `column:<name>:missing` lines as of now: the cycles over
    # so far this month (this week's days included), each line naming its missed dates.
    scores, _ = month_scores(s, config, month, now=as_of)
    columns = [
        {"unit": u.unit, "text": x.note}
        for u in scores.units
        for x in u.lines
        if x.rule.startswith("column:") and x.rule.endswith(":missing")
    ]
    first, last = day_of(week.start), day_of(week.end) - timedelta(days=1)
    number = int(week.label.rpartition("W")[2])
    dates = f"{first.month}月{first.day}日至{last.month}月{last.day}日"
    return {
        "week": f"第{number}周（{dates}）",
        "week_full": f"第{number}周（{dates}，共{weekly.workdays}个工作日）",
        "over": now >= week.end,
        "as_of": as_of,
        "workdays": weekly.workdays,
        "month": f"{day_of(month.start).month}月",
        "rows": rows,
        "lagging": [r for r in rows if r["short"]],
        "columns": columns,
        "waiting": waiting(s, now=now),
        "ungraded": ungraded(s),
        "reminded": [],
        "office_name": config.office.name,
        "today": now,
    }


_REASONS = {
    "unverified": "发件邮箱未登记，稿件暂未计数",
    "held": "已登记邮箱未通过身份验证，稿件暂未计数",
    MessageState.QUARANTINED.value: "超出处理限制，已隔离",
    MessageState.POISON.value: "多次处理失败，已停止处理",
}


def waiting(s: Session, *, now: datetime) -> list[dict[str, Any]]:
    """Mail waiting for the office: quarantined or poison, or drafts held as unverified."""
    since = now - timedelta(days=WAITING_DAYS)
    held = select(Submission.message_row_id).where(Submission.status == SubmissionStatus.UNVERIFIED)
    rows = s.exec(
        select(Message)
        .where(
            Message.internaldate >= since,
            col(Message.state).in_([MessageState.QUARANTINED, MessageState.POISON])
            | col(Message.id).in_(held),
        )
        .order_by(col(Message.internaldate))
    ).all()
    out = []
    for m in rows:
        reason = _REASONS.get(m.state.value) or _REASONS.get(m.outcome or "", _REASONS["unverified"])
        out.append(
            {
                "sender": m.from_addr or "（未知发件人）",
                "subject": m.subject or "（无主题）",
                "received_at": m.internaldate,
                "reason": reason,
            }
        )
    return out


def render_weekly(s: Session, config: Config, week: Period, *, now: datetime) -> Rendered:
    return render("office/weekly_shortfall", **weekly_context(s, config, week, now=now))


def queue_weekly(
    s: Session, config: Config, week: Period, *, now: datetime, remind_publicists: bool = False
) -> int:
    """Queue the office's weekly reminder (and the lagging units' reminders); rows added."""
    from daemon.replies import queue_mail

    ctx = weekly_context(s, config, week, now=now)
    added = 0
    if remind_publicists:
        for row in ctx["lagging"]:
            publicists = [p for p in config.publicists if p.unit == row["unit"]]
            for p in publicists:
                mail = render("publicist/weekly_reminder", publicist=p.name, row=row, **_pick(ctx))
                key = f"weekly_reminder|{week.label}|{p.email}"
                added += queue_mail(s, config, mail, key=key, kind="weekly_reminder", to=p.email, now=now)
            if publicists:
                ctx["reminded"].append(row["unit"])
    mail = render("office/weekly_shortfall", **ctx)
    for to in config.office.emails:
        key = f"weekly_shortfall|{week.label}|{to}"
        added += queue_mail(s, config, mail, key=key, kind="weekly_shortfall", to=to, now=now)
    return added


def _pick(ctx: dict[str, Any]) -> dict[str, Any]:
    return {k: ctx[k] for k in ("week", "month", "as_of", "office_name", "today")}
