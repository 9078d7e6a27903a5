"""Replies the pipeline queues: receipts, rejections, unknown-sender notes, office alerts and digests.

Everything here only *enqueues* (outbox rows in the caller's transaction); the relay sends.
Replies go to the From address, never to Reply-To (a forged Reply-To must not harvest receipts).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from daemon import ledger, scoring_io
from daemon.config import Config
from daemon.models import Message, Submission, SubmissionStatus, Unit
from outbox.compose import Attachment, compose
from outbox.receipt import ReceiptContext, ReceiptDraft, mail_kind, render_receipt
from outbox.render import Rendered, render
from outbox.table import Outbox, enqueue
from parsers.types import Code, ParsedMessage, Problem
from scoring.periods import SHANGHAI, day_of, month_of, week_of

if TYPE_CHECKING:
    from daemon.adoptions import BulletinResult
    from daemon.pipeline import DraftDecision

_NO_REPLY_LOCALPARTS = ("mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply")

_STATUS = {
    SubmissionStatus.ACCEPTED: "accepted",
    SubmissionStatus.DUPLICATE: "duplicate",
    SubmissionStatus.REJECTED: "rejected",
}


def _domain(config: Config) -> str:
    return (config.smtp.user or config.mailbox.user).rpartition("@")[2] or "xinbao.invalid"


def _sender(config: Config) -> str:
    return config.smtp.user or config.mailbox.user


def _answerable(address: str) -> bool:
    local = address.partition("@")[0].lower()
    return bool(address) and "@" in address and not local.startswith(_NO_REPLY_LOCALPARTS)


def office_message(
    config: Config,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    key: str,
    now: datetime,
    auto_reply: bool = False,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    """A message from the office's mailbox, as every reply, alert and notice is sent."""
    return compose(
        sender=_sender(config),
        sender_name=config.office.name,
        to=to,
        subject=subject,
        text=text,
        html=html,
        key=key,
        domain=_domain(config),
        in_reply_to=in_reply_to,
        references=references,
        attachments=attachments,
        auto_reply=auto_reply,
        date=now,
    )


def queue_mail(
    s: Session,
    config: Config,
    rendered: Rendered,
    *,
    kind: str,
    key: str,
    to: str,
    now: datetime,
    attachments: Sequence[Attachment] = (),
) -> int:
    """Queue one rendered office mail for `to` under `key` (kind|period|recipient); 1 if added."""
    mail = office_message(
        config,
        to=to,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        key=key,
        attachments=attachments,
        now=now,
    )
    return int(enqueue(s, key=key, kind=kind, recipient=to, message=mail, now=now))


def queue_reply(
    s: Session,
    config: Config,
    parsed: ParsedMessage,
    rendered: Rendered,
    *,
    kind: str,
    key: str,
    now: datetime,
    cause_message_row_id: int | None = None,
) -> None:
    """Queue an automatic answer to `parsed`, in its thread: receipts, rejections, 明细, commands."""
    mail = office_message(
        config,
        to=parsed.from_addr,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        key=key,
        in_reply_to=parsed.message_id or None,
        references=tuple(r for r in (*parsed.references, parsed.message_id) if r),
        auto_reply=True,
        now=now,
    )
    enqueue(
        s,
        key=key,
        kind=kind,
        recipient=parsed.from_addr,
        message=mail,
        now=now,
        cause_message_row_id=cause_message_row_id,
    )


def answer(
    s: Session,
    config: Config,
    msg: Message,
    parsed: ParsedMessage,
    pairs: Sequence[tuple[DraftDecision, Submission]],
    general: Sequence[Problem],
    *,
    now: datetime,
) -> None:
    """Queue the one reply this message gets: receipt, rejection, or the unknown-sender note."""
    to = parsed.from_addr
    if not _answerable(to):
        return
    if msg.outcome in ("held", "unverified"):
        # Held: maybe not the publicist at all; unverified: an unregistered address. A short note,
        # nothing about a unit's records.
        kind = "held" if msg.outcome == "held" else "unknown_sender"
        rendered = render(
            f"publicist/{kind}",
            sender=to,
            subject=parsed.subject,
            received_at=msg.internaldate,
            office_name=config.office.name,
            today=now,
        )
        key = f"{kind}|{msg.sha256[:16]}|{to}"
        queue_reply(s, config, parsed, rendered, kind=kind, key=key, now=now, cause_message_row_id=msg.id)
        return
    publicist = ledger.publicist_by_email(s, to)
    unit = s.get(Unit, publicist.unit_id) if publicist else None
    week, month = week_of(msg.internaldate), month_of(msg.internaldate)
    counts: tuple[int, ...] = (0, 0)
    if unit is not None and unit.id is not None:
        counts = ledger.count_accepted_in(s, unit.id, [(week.start, week.end), (month.start, month.end)])
    drafts = [_receipt_draft(d, sub) for d, sub in pairs]
    # The quotas (三、(一)1) of the unit's group, from the scoring profile.
    week_quota, month_quota = scoring_io.quotas(config, msg.internaldate, unit.group if unit else "")
    ctx = ReceiptContext(
        unit=unit.name if unit else None,
        sender_name=parsed.from_name or (publicist.name if publicist else None),
        received_at=msg.internaldate,
        drafts=drafts,
        week_label=f"第{int(week.label.rpartition('W')[2])}周",
        week_count=counts[0],
        week_quota=week_quota,
        month_count=counts[1],
        month_quota=month_quota,
        message_problems=[(p.message, p.fix) for p in general if p.code != Code.UNKNOWN_SENDER],
        office_name=config.office.name,
        subject=parsed.subject,
    )
    kind = mail_kind(ctx)
    key = f"{kind}|{msg.sha256[:16]}|{to}"
    rendered = render_receipt(ctx, today=now)
    queue_reply(s, config, parsed, rendered, kind=kind, key=key, now=now, cause_message_row_id=msg.id)


def _receipt_draft(d: DraftDecision, sub: Submission) -> ReceiptDraft:
    status = "replaced" if d.replaces is not None else _STATUS.get(d.status, "rejected")
    authors = [(unit.name if unit else written, name) for name, written, unit in d.authors]
    return ReceiptDraft(
        number=sub.id if status != "rejected" else None,
        title=d.draft.title,
        authors=authors,
        first_reviewer=d.draft.signoff.first_reviewer,
        second_reviewer=d.draft.signoff.second_reviewer,
        images=d.draft.images,
        status=status,  # type: ignore[arg-type]
        problems=[(p.message, p.fix) for p in d.problems],
        column=d.column,
    )


def rejected_in_thread(s: Session, parsed: ParsedMessage, unit: Unit) -> Submission | None:
    """A rejected draft of this unit whose rejection this mail replies to (a corrected resubmission)."""
    ids = [r for r in (parsed.in_reply_to, *parsed.references) if r]
    if not ids:
        return None
    causes = s.exec(
        select(Outbox.cause_message_row_id).where(col(Outbox.message_id).in_(ids), Outbox.kind == "rejection")
    ).all()
    cause_ids = [c for c in causes if c is not None]
    if not cause_ids:
        return None
    stmt = (
        select(Submission)
        .where(
            col(Submission.message_row_id).in_(cause_ids),
            Submission.unit_id == unit.id,
            Submission.status == SubmissionStatus.REJECTED,
        )
        .order_by(col(Submission.id))
    )
    return s.exec(stmt).first()


def alert_office(
    s: Session, config: Config, *, topic: str, title: str, text: str, details: Sequence[str], now: datetime
) -> None:
    """Queue one office alert per topic and office address (the topic makes the outbox key)."""
    digest = hashlib.sha256(topic.encode()).hexdigest()[:16]
    rendered = render(
        "office/alert",
        title=title,
        text=text,
        occurred_at=now,
        details=list(details),
        office_name=config.office.name,
        today=now,
    )
    for to in config.office.emails:
        queue_mail(s, config, rendered, kind="alert", key=f"alert|{digest}|{to}", to=to, now=now)


def _described(msg: Message) -> list[str]:
    return [
        f"发件人：{msg.from_addr or '（未知）'}",
        f"主题：{msg.subject or '（无）'}",
        f"邮箱 UID：{msg.uid}",
    ]


def alert_poison(s: Session, config: Config, msg: Message, *, now: datetime) -> None:
    alert_office(
        s,
        config,
        topic=f"poison|{msg.sha256}",
        title="有邮件多次处理失败，已停止处理",
        text="报送邮箱中有一封邮件连续多次处理失败，系统已将其隔离，不再自动处理。请在网页邮箱中查看该邮件并人工登记。",
        details=[*_described(msg), f"错误：{msg.last_error or '（无）'}"],
        now=now,
    )


def alert_quarantine(
    s: Session, config: Config, msg: Message, problems: Sequence[Problem], *, now: datetime
) -> None:
    alert_office(
        s,
        config,
        topic=f"quarantine|{msg.sha256}",
        title="有邮件超出处理限制，需人工核对",
        text="报送邮箱中有一封邮件超出了系统的处理限制（处理超时或占用内存过多），已回复发件人并隔离，请人工核对。",
        details=[*_described(msg), *(p.message for p in problems)],
        now=now,
    )


def answer_bulletin(
    s: Session, config: Config, msg: Message, parsed: ParsedMessage, result: BulletinResult, *, now: datetime
) -> None:
    """Tell the office which bulletin lines matched a draft, which are ambiguous, which matched none."""
    from daemon.bulletin import bulletin_reply

    rendered = bulletin_reply(result, config=config, subject=parsed.subject, now=now)
    key = f"bulletin|{msg.sha256[:16]}|{parsed.from_addr}"
    queue_reply(s, config, parsed, rendered, kind="bulletin", key=key, now=now, cause_message_row_id=msg.id)


def alert_forged_office(s: Session, config: Config, msg: Message, reason: str, *, now: datetime) -> None:
    alert_office(
        s,
        config,
        topic=f"forged_office|{msg.sha256}",
        title="有邮件冒用办公室邮箱",
        text="报送邮箱收到一封以局办公室邮箱名义发出、但未通过发件人身份验证的邮件，系统未执行其中的任何指令，也未回复。请核实是否有人冒用办公室邮箱。",
        details=[*_described(msg), f"验证结果：{reason}"],
        now=now,
    )


def queue_unverified_digests(s: Session, config: Config, *, now: datetime, days: int = 7) -> int:
    """Queue the daily digest of mail from unregistered addresses for each finished day; idempotent.

    Runs every pass: days whose digests are all queued already are not read again.
    """
    today = day_of(now)
    recent = [today - timedelta(days=k) for k in range(days, 0, -1)]
    keys = {f"unverified_digest|{d.isoformat()}|{to}" for d in recent for to in config.office.emails}
    done = set(s.exec(select(Outbox.key).where(col(Outbox.key).in_(keys))).all())
    open_days = [
        d
        for d in recent
        if any(f"unverified_digest|{d.isoformat()}|{to}" not in done for to in config.office.emails)
    ]
    if not open_days:
        return 0
    since = datetime.combine(open_days[0], datetime.min.time(), tzinfo=SHANGHAI)
    until = datetime.combine(today, datetime.min.time(), tzinfo=SHANGHAI)
    rows = s.exec(
        select(Message)
        .where(
            col(Message.outcome).in_(["unverified", "held"]),
            Message.internaldate >= since,
            Message.internaldate < until,
        )
        .order_by(col(Message.internaldate))
    ).all()
    titles: dict[int, list[str]] = defaultdict(list)
    for row_id, title in s.exec(
        select(Submission.message_row_id, Submission.title)
        .where(col(Submission.message_row_id).in_([m.id for m in rows]))
        .order_by(col(Submission.id))
    ):
        titles[row_id].append(title)
    by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for m in rows:
        if day_of(m.internaldate) not in open_days:
            continue
        by_day[day_of(m.internaldate)].append(
            {
                "sender": m.from_addr,
                "subject": m.subject or "",
                "received_at": m.internaldate,
                "titles": titles.get(m.id or 0, []),
                "reason": "已登记邮箱，但未通过发件人身份验证，疑似冒用" if m.outcome == "held" else "",
            }
        )
    queued = 0
    for day, items in sorted(by_day.items()):
        rendered = render(
            "office/unverified_digest", day=day, items=items, office_name=config.office.name, today=now
        )
        for to in config.office.emails:
            key = f"unverified_digest|{day.isoformat()}|{to}"
            queued += queue_mail(s, config, rendered, kind="unverified_digest", key=key, to=to, now=now)
    return queued
