"""Solicitations (约稿, 三(二)1): register a topic, tell the target units, link and grade responses.

The office registers one with `xinbao solicit add` or by mail from a verified office address:
subject 【约稿】, body lines “主题：…”, “截止：2025-07-10”, “单位：危化科、盘山县应急管理局” (no 单位
line: every unit). Each target unit's publicists get a notice (outbox key
`solicitation|<id>|<address>`). A draft answers a solicitation when its mail's subject carries
【约稿】 and the topic, or when the mail replies in the thread of that notice; a draft corrected
after its rejection answers what the rejected one answered. Scoring: rule
`solicitation` (scoring/rules/solicitation.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from daemon import ledger
from daemon.config import Config
from daemon.models import Submission, SubmissionStatus, Unit
from daemon.models_scoring import Solicitation, SolicitationResponse
from daemon.replies import office_message, queue_reply
from outbox.render import Rendered
from outbox.table import Outbox, enqueue
from parsers.types import ParsedMessage

TAG = "【约稿】"
MAX_GRADE = 3
_FIELD = re.compile(r"^\s*(主题|题目|截止|截止日期|单位|约稿单位)\s*[：:]\s*(.*?)\s*$")
_DATE = re.compile(r"(\d{4})\s*[-年./]\s*(\d{1,2})\s*[-月./]\s*(\d{1,2})")


class SolicitationError(ValueError):
    """A command the office must correct; the message is Chinese."""


@dataclass(frozen=True)
class Request:
    topic: str
    deadline: date
    units: tuple[str, ...]


def parse_deadline(text: str) -> date:
    found = _DATE.search(text)
    if found is None:
        raise SolicitationError(f"无法识别截止日期“{text}”（应写作 2025-07-10 或 2025年7月10日）")
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        raise SolicitationError(f"截止日期“{text}”不存在") from None


def parse_request(body: str) -> Request:
    """The topic, deadline and units of an office 【约稿】 mail's body."""
    fields: dict[str, str] = {}
    for line in body.splitlines():
        found = _FIELD.match(line)
        if found:
            key = {"题目": "主题", "截止日期": "截止", "约稿单位": "单位"}.get(found[1], found[1])
            fields.setdefault(key, found[2])
    topic = fields.get("主题", "").strip("《》“”")
    if not topic:
        raise SolicitationError("约稿邮件正文中没有“主题：…”一行")
    if "截止" not in fields:
        raise SolicitationError("约稿邮件正文中没有“截止：YYYY-MM-DD”一行")
    units = tuple(u.strip() for u in re.split(r"[、,，;；\s]+", fields.get("单位", "")) if u.strip())
    return Request(topic, parse_deadline(fields["截止"]), units)


def resolve_units(s: Session, names: Sequence[str]) -> tuple[str, ...]:
    """Configured unit names for `names` (aliases allowed); SolicitationError naming unknown ones."""
    found, unknown = [], []
    for name in names:
        unit = ledger.unit_by_name_or_alias(s, name)
        if unit is None:
            unknown.append(name)
        elif unit.name not in found:
            found.append(unit.name)
    if unknown:
        raise SolicitationError(f"没有这些单位：{'、'.join(unknown)}")
    return tuple(found)


def register(
    s: Session,
    config: Config,
    request: Request,
    *,
    created_by: str,
    now: datetime,
    source_message_row_id: int | None = None,
    notify: bool = True,
) -> Solicitation:
    """Record a solicitation and queue the notices to its target units' publicists."""
    units = resolve_units(s, request.units)
    sol = Solicitation(
        topic=request.topic,
        deadline=request.deadline,
        units=list(units),
        created_by=created_by,
        source_message_row_id=source_message_row_id,
        created_at=now,
    )
    s.add(sol)
    s.flush()
    if notify:
        notify_units(s, config, sol, now=now)
    return sol


def notify_units(s: Session, config: Config, sol: Solicitation, *, now: datetime) -> int:
    """Queue one notice per publicist of the target units; idempotent by outbox key."""
    names = sol.units or [u.name for u in config.units]
    subject = f"{TAG}{sol.topic}（截止{sol.deadline.month}月{sol.deadline.day}日）"
    queued = 0
    for p in config.publicists:
        if p.unit not in names:
            continue
        key = f"solicitation|{sol.id}|{p.email}"
        text = (
            f"{p.unit}{p.name}：\n\n"
            f"　　{config.office.name}约稿：《{sol.topic}》，请于{sol.deadline.year}年{sol.deadline.month}月"
            f"{sol.deadline.day}日前报送。\n"
            f"　　报送时请直接回复本邮件，或在邮件标题中注明“{TAG}{sol.topic}”。稿件格式与日常报送相同"
            "（撰稿人、初审人、复审人）。逾期或未报送的计0分，按时报送的由局办公室按完成质量计0至3分。\n\n"
            f"{config.office.name}\n"
        )
        mail = office_message(config, to=p.email, subject=subject, text=text, html=None, key=key, now=now)
        queued += enqueue(s, key=key, kind="solicitation", recipient=p.email, message=mail, now=now)
    return queued


def link_responses(
    s: Session,
    parsed: ParsedMessage,
    subs: Sequence[Submission],
    *,
    now: datetime,
    subject: str | None = None,
) -> int:
    """Link the accepted drafts of a mail to the solicitation it answers; returns links made.

    `subject`: the one to read 【约稿】 from, when not the mail's own (a correction sent in reply
    to its rejection is read with the subject of the draft it corrects, see daemon.pipeline)."""
    accepted = [x for x in subs if x.status == SubmissionStatus.ACCEPTED and x.id is not None]
    if not accepted:
        return 0
    sol = _answered(s, parsed, parsed.subject if subject is None else subject)
    if sol is None or sol.id is None:
        return 0
    made = 0
    for sub in accepted:
        unit = s.get(Unit, sub.unit_id) if sub.unit_id is not None else None
        if sol.units and (unit is None or unit.name not in sol.units):
            continue
        exists = s.exec(
            select(SolicitationResponse).where(
                SolicitationResponse.solicitation_id == sol.id, SolicitationResponse.submission_id == sub.id
            )
        ).first()
        if exists is None:
            assert sub.id is not None
            s.add(SolicitationResponse(solicitation_id=sol.id, submission_id=sub.id, created_at=now))
            made += 1
    return made


def _answered(s: Session, parsed: ParsedMessage, subject: str) -> Solicitation | None:
    ids = [r for r in (parsed.in_reply_to, *parsed.references) if r]
    if ids:
        keys = s.exec(
            select(Outbox.key).where(col(Outbox.message_id).in_(ids), Outbox.kind == "solicitation")
        ).all()
        for key in keys:
            found = s.get(Solicitation, int(key.split("|")[1]))
            if found is not None:
                return found
    return _by_subject(s, subject)


def _by_subject(s: Session, subject: str) -> Solicitation | None:
    """The solicitation a subject names: 【约稿】 and then its topic (the latest deadline first)."""
    if TAG not in subject:
        return None
    rest = subject.split(TAG, 1)[1]
    candidates = s.exec(select(Solicitation).order_by(col(Solicitation.deadline).desc())).all()
    return next((x for x in candidates if x.topic and x.topic in rest), None)


def grade(
    s: Session,
    response_id: int,
    *,
    score: int,
    deduct: Decimal = Decimal(0),
    note: str = "",
    by: str,
    now: datetime,
) -> SolicitationResponse:
    """The office's grade of a response: 0–3 less `deduct` (a magnitude)."""
    if not 0 <= score <= MAX_GRADE:
        raise SolicitationError(f"评分应为0至{MAX_GRADE}分，实际为{score}")
    if deduct < 0 or deduct != deduct.quantize(Decimal("0.0001")):
        raise SolicitationError(f"扣分“{deduct}”无效（非负数，最多四位小数）")
    response = s.get(SolicitationResponse, response_id)
    if response is None:
        raise SolicitationError(f"没有编号为 {response_id} 的约稿回复")
    response.grade, response.deduction, response.note = score, deduct, note
    response.graded_by, response.graded_at = by, now
    return response


def handle_mail(
    s: Session,
    config: Config,
    parsed: ParsedMessage,
    *,
    message_row_id: int | None,
    sha: str,
    now: datetime,
    quiet: bool,
) -> Solicitation | None:
    """An office 【约稿】 mail: register it (or say what is wrong) and answer the office."""
    try:
        sol: Solicitation | None = register(
            s,
            config,
            parse_request(parsed.body),
            created_by=parsed.from_addr,
            now=now,
            source_message_row_id=message_row_id,
            notify=not quiet,
        )
        assert sol is not None
        targets = "、".join(sol.units) or "全部单位"
        text = (
            f"约稿已登记（编号 {sol.id}）：《{sol.topic}》，截止{sol.deadline.isoformat()}，约稿单位：{targets}。\n"
            "系统已通知各单位宣传员；逾期或未报送的计0分。收到稿件后，请发送主题含【约稿评分】的邮件评分"
            "（每行一条，如“#7 3分 扣0.5分 错别字2处”；只发主题即可收到待评分清单），"
            "或用 xinbao solicit grade 回复编号 --score 0至3 评分。\n"
        )
    except SolicitationError as exc:
        sol = None
        text = f"约稿未能登记：{exc}。\n正文请写明：\n主题：…\n截止：2025-07-10\n单位：危化科、盘山县应急管理局（不写则为全部单位）\n"
    if quiet:
        return sol
    key = f"solicitation_reply|{sha[:16]}|{parsed.from_addr}"
    reply = Rendered(f"回复：{parsed.subject}", text, None)
    queue_reply(
        s,
        config,
        parsed,
        reply,
        kind="solicitation_reply",
        key=key,
        now=now,
        cause_message_row_id=message_row_id,
    )
    return sol
