"""A unit can ask why: a publicist who replies "明细" to a notice gets every line of their unit's score.

The request is the word 明细 in the subject (tags such as 【得分明细】 aside) or in what the
publicist wrote above the quoted notice. The month is the one of the notice replied to (its
Message-ID is in the outbox), else one the mail names (2025年6月, 2025-06), else the latest
notice's, else last month. One answer per request mail (key `details|2025-06#<hash>|addr`).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from daemon import ledger
from daemon.config import Config
from daemon.models import Unit
from daemon.replies import queue_reply
from outbox.render import render
from outbox.table import Outbox
from parsers.types import ParsedMessage
from scoring.periods import Period, day_of, month_of, parse_month
from scoring.results import Line, format_points

WORD = "明细"
_TAG = re.compile(r"【[^】]*】")
# Where a reply's own text ends and the quoted mail begins (Foxmail, 163, QQ, Outlook, Thunderbird).
_QUOTE = re.compile(
    r"^\s*(>|-{3,}|_{5,}|.*原始邮件|.*Original Message|(发件人|发送时间|From|Sent|Date)\s*[:：]|在.*写道|On .* wrote)"
)
_MONTH = re.compile(r"(?P<y>20\d{2})\s*(?:年\s*|-)(?P<m>1[0-2]|0?[1-9])(?:\s*月|(?!\d))")


def own_text(body: str) -> str:
    """What the sender wrote above the quoted mail."""
    own = []
    for line in body.splitlines():
        if _QUOTE.match(line):
            break
        own.append(line)
    return "\n".join(own)


def wants_details(subject: str, body: str) -> bool:
    """Whether the mail asks for 明细: in the subject, or above the quote in the body."""
    return WORD in _TAG.sub("", subject) or WORD in own_text(body)


def answer_details(
    s: Session,
    config: Config,
    parsed: ParsedMessage,
    *,
    now: datetime,
    cause_message_row_id: int | None = None,
) -> bool:
    """Queue the unit's lines if `parsed` is a registered publicist asking for 明细; True if handled.

    Call it only for a sender whose From was verified. Mail with drafts is never a 明细 request.
    """
    text = own_text(parsed.body)
    if parsed.drafts or parsed.auto_reply or not wants_details(parsed.subject, text):
        return False
    from daemon.notice_mail import month_scores

    person = ledger.publicist_by_email(s, parsed.from_addr)
    unit = s.get(Unit, person.unit_id) if person is not None else None
    if person is None or unit is None or config.unit_by_name(unit.name) is None:
        return False
    month = _month(s, parsed, text, now=now)
    scores, _ = month_scores(s, config, month, now=now)
    score = next(u for u in scores.units if u.unit == unit.name)
    first = day_of(month.start)
    mail = render(
        "publicist/unit_details",
        publicist=person.name,
        unit=score,
        month=f"{first.year}年{first.month}月",
        lines=[_line(line) for line in score.lines],
        fmt=format_points,
        office_name=config.office.name,
        today=now,
    )
    request = parsed.message_id or f"{parsed.subject}|{parsed.date}"
    key = f"details|{month.label}#{hashlib.sha256(request.encode()).hexdigest()[:12]}|{parsed.from_addr}"
    queue_reply(
        s, config, parsed, mail, kind="details", key=key, now=now, cause_message_row_id=cause_message_row_id
    )
    return True


def _month(s: Session, parsed: ParsedMessage, text: str, *, now: datetime) -> Period:
    ids = [r for r in (parsed.in_reply_to, *parsed.references) if r]
    if ids:
        keys = s.exec(
            select(Outbox.key).where(
                col(Outbox.message_id).in_(ids), col(Outbox.kind).in_(["notice", "notice_correction"])
            )
        ).all()
        if keys:
            return parse_month(max(keys).split("|")[1].partition("#")[0])
    named = _MONTH.search(parsed.subject) or _MONTH.search(text)
    if named:
        return parse_month(f"{named['y']}-{int(named['m']):02d}")
    sent = s.exec(select(Outbox.key).where(Outbox.kind == "notice")).all()
    if sent:
        return parse_month(max(key.split("|")[1] for key in sent))
    return month_of(month_of(now).start - timedelta(days=1))


def _line(line: Line) -> dict[str, str]:
    points = format_points(line.points)
    return {
        "points": ("+" if line.points > 0 else "") + points,
        "rule": line.rule,
        "ref": f"#{line.submission_id}" if line.submission_id is not None else "",
        "note": line.note,
    }
