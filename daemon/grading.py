"""The office grades solicitation responses (约稿评分) by mail, as `xinbao solicit grade` does.

Subject 【约稿评分】 from a verified office address, or a reply to the weekly reminder (which
lists the answers still ungraded) that grades at least one answer. Each line of the office's own text (above any
quoted mail) grades one response by its number: “#7 3分 扣0.5分 错别字2处”, “7：2分”, “回复12 评0分
内容严重不符”; the deduction and the note are optional. Other lines (a greeting, a signature) are
passed over. The reply says what was recorded, which lines could not be, and which responses are
still ungraded, so a mail without any grading line asks for that list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from daemon.config import Config
from daemon.models import Submission, Unit
from daemon.models_scoring import Solicitation, SolicitationResponse
from daemon.notice_reply import own_text
from daemon.notices import WEEKLY_KIND
from daemon.replies import queue_reply
from daemon.solicitations import SolicitationError, grade
from outbox.render import Rendered
from outbox.table import Outbox
from parsers.types import ParsedMessage
from scoring.periods import day_of
from scoring.results import format_points

TAG = "【约稿评分】"
FORMAT = "每行一条，如“#7 3分 扣0.5分 错别字2处”（回复编号见周提醒或 xinbao solicit list；扣分和说明可不写）"
# At most this many ungraded responses are listed in a reply; the rest are counted.
LISTED = 50

# Full-width ASCII (“＃７：２分”) and the ideographic space read as their ASCII selves.
_HALF_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# An optional list number (“1.”), then 回复/编号, “#”, the response number and a separator. A line
# not shaped so is not a grading line.
_LINE = re.compile(
    r"^\s*(?:\d+[.)、]\s*)?(?:回复|编号)?\s*#?\s*(?P<id>\d+)\s*号?\s*(?:[:,、;]|\s)\s*(?P<rest>.*)$"
)
_DEDUCT = re.compile(r"扣(?:分)?\s*[:]?\s*(?P<d>\d+(?:\.\d+)?)\s*分?")
_SCORE = re.compile(r"(?:评分|评|得)?\s*[:]?\s*(?P<s>\d+(?:\.\d+)?)\s*分")
_BARE = re.compile(r"^(?:评分|评|得)?\s*[:]?\s*(?P<s>\d+(?:\.\d+)?)(?![\d.])")
_EDGES = " \t,，、;；:：.。()（）"
_NOTE_LABEL = re.compile(r"^(?:说明|备注|原因)\s*[:：]?\s*")


@dataclass(frozen=True)
class GradeLine:
    """One line's grade: response number, 0–3, the deduction (a magnitude), a note; the line."""

    response: int
    score: int
    deduct: Decimal
    note: str
    line: str


@dataclass(frozen=True)
class Unreadable:
    """A line that names a response but could not be read as a grade, and why (Chinese)."""

    line: str
    reason: str


def parse_grades(text: str) -> tuple[list[GradeLine], list[Unreadable]]:
    """The grading lines of the office's own text, in order, and the lines that failed."""
    grades: list[GradeLine] = []
    failed: list[Unreadable] = []
    for raw in text.splitlines():
        line = raw.strip()
        # Read with full-width digits and signs as ASCII (one character for one, so positions
        # hold); the note keeps what the office wrote.
        found = _LINE.match(line.translate(_HALF_WIDTH))
        if found is None:
            continue
        rest, note = found["rest"], line[found.start("rest") :]
        deduct = _DEDUCT.search(rest)
        if deduct is not None:
            rest, note = _blank(rest, deduct.span()), _blank(note, deduct.span())
        score = _SCORE.search(rest) or _BARE.match(rest, len(rest) - len(rest.lstrip()))
        if score is None:
            failed.append(Unreadable(line, "没有写明评分"))
            continue
        if "." in score["s"] or int(score["s"]) > 3:
            failed.append(Unreadable(line, f"评分应为0、1、2、3分之一，写的是{score['s']}分"))
            continue
        note = _blank(note, score.span())
        note = _NOTE_LABEL.sub("", " ".join(note.split()).strip(_EDGES)).strip(_EDGES)
        amount = Decimal(deduct["d"]) if deduct else Decimal(0)
        grades.append(GradeLine(int(found["id"]), int(score["s"]), amount, note, line))
    return grades, failed


def _blank(text: str, span: tuple[int, int]) -> str:
    start, end = span
    return text[:start] + " " * (end - start) + text[end:]


def is_grading(s: Session, parsed: ParsedMessage) -> bool:
    """A 【约稿评分】 mail, or a reply to the office's weekly reminder with a grading line in it."""
    if TAG in parsed.subject:
        return True
    ids = [r for r in (parsed.in_reply_to, *parsed.references) if r]
    grades, failed = parse_grades(own_text(parsed.body)) if ids else ([], [])
    if not (grades or failed):  # a line that tried to grade counts: its reply says what was wrong
        return False
    reminder = select(Outbox.id).where(col(Outbox.message_id).in_(ids), Outbox.kind == WEEKLY_KIND)
    return s.exec(reminder).first() is not None


def handle_mail(
    s: Session,
    config: Config,
    parsed: ParsedMessage,
    *,
    message_row_id: int | None,
    sha: str,
    sent_at: datetime,
    now: datetime,
    quiet: bool,
) -> list[GradeLine]:
    """An office 【约稿评分】 mail: record each grade it gives and answer the office; the grades recorded.

    A grade is dated when the mail reached the mailbox (`sent_at`), and a grade given later (by
    `xinbao solicit grade`, or a later mail) is never undone by it: so a mail processed late, or
    again by `xinbao reprocess`, changes nothing the office decided after writing it.
    """
    grades, failed = parse_grades(own_text(parsed.body))
    done: list[str] = []
    recorded: list[GradeLine] = []
    changed: set[str] = set()  # the months (of the deadlines) whose scores the mail changed
    for g in grades:
        response = s.get(SolicitationResponse, g.response)
        if response is None:
            failed.append(Unreadable(g.line, f"没有编号为 {g.response} 的约稿回复"))
            continue
        before = (response.grade, response.deduction)
        later = response.graded_at
        if later is not None and later > sent_at and before != (g.score, g.deduct):
            day = day_of(later)
            failed.append(
                Unreadable(
                    g.line, f"该回复已于{day.month}月{day.day}日改评为{before[0]}分，晚于这封邮件，未更改"
                )
            )
            continue
        try:
            grade(
                s, g.response, score=g.score, deduct=g.deduct, note=g.note, by=parsed.from_addr, now=sent_at
            )
        except SolicitationError as exc:
            failed.append(Unreadable(g.line, str(exc)))
            continue
        recorded.append(g)
        solicitation = s.get(Solicitation, response.solicitation_id)
        if solicitation is not None and before != (g.score, g.deduct):
            changed.add(f"{solicitation.deadline.year}-{solicitation.deadline.month:02d}")
        said = f"评{g.score}分" + (f"，扣{format_points(g.deduct)}分" if g.deduct else "")
        if g.note:
            said += f"（{g.note}）"
        if before[0] is not None and before != (g.score, g.deduct):
            said += f"；原评{before[0]}分" + (f"，扣{format_points(before[1])}分" if before[1] else "")
        done.append(f"  回复 #{g.response} {_describe(s, response)}：{said}")
    s.flush()
    if quiet:
        return recorded
    lines = ["约稿评分结果："] if done else ["这封邮件没有可登记的评分。"]
    lines += done
    if failed:
        lines.append("未能登记的行（请改正后重新发送这几行）：")
        lines += [f"  “{f.line}”：{f.reason}" for f in failed]
    lines += _ungraded(s)
    lines += [
        f"注意：{int(label[:4])}年{int(label[5:])}月的通报已经发出，本次评分改变了该月得分；"
        f"如需更正，请运行 xinbao notice monthly --month {label} --correct --send。"
        for label in sorted(changed)
        if _notice_sent(s, label)
    ]
    lines.append(f"评分格式：{FORMAT}。")
    reply = Rendered(f"回复：{parsed.subject}", "\n".join(lines) + "\n", None)
    key = f"grading_reply|{sha[:16]}|{parsed.from_addr}"
    queue_reply(
        s, config, parsed, reply, kind="grading_reply", key=key, now=now, cause_message_row_id=message_row_id
    )
    return recorded


@dataclass(frozen=True)
class Ungraded:
    """A response the office has not graded yet, as the weekly reminder and the replies list it."""

    response: int
    unit: str
    title: str
    topic: str
    deadline: date


def ungraded(s: Session) -> list[Ungraded]:
    """Every response still without a grade, oldest first."""
    rows = s.exec(
        select(SolicitationResponse, Submission, Solicitation)
        .join(Submission, col(Submission.id) == SolicitationResponse.submission_id)
        .join(Solicitation, col(Solicitation.id) == SolicitationResponse.solicitation_id)
        .where(col(SolicitationResponse.grade).is_(None))
        .order_by(col(SolicitationResponse.id))
    ).all()
    units = {u.id: u.name for u in s.exec(select(Unit))}
    return [
        Ungraded(
            r.id or 0, units.get(sub.unit_id, "") if sub.unit_id else "", sub.title, sol.topic, sol.deadline
        )
        for r, sub, sol in rows
    ]


def _notice_sent(s: Session, label: str) -> bool:
    """Whether the notice of month `label` (2025-06), or a correction of it, has been queued."""
    from daemon.notice_mail import of_notice  # the notice machinery: only when grading

    return s.exec(select(Outbox.id).where(of_notice(label))).first() is not None


def _ungraded(s: Session) -> list[str]:
    waiting = ungraded(s)
    if not waiting:
        return ["所有约稿回复均已评分。"]
    lines = [f"待评分的约稿回复（共{len(waiting)}条）："]
    lines += [
        f"  回复 #{u.response} {_named(u.unit, u.title, u.topic, u.deadline)}" for u in waiting[:LISTED]
    ]
    if len(waiting) > LISTED:
        lines.append(f"  ……其余{len(waiting) - LISTED}条见 xinbao solicit list")
    return lines


def _describe(s: Session, response: SolicitationResponse) -> str:
    sub = s.get(Submission, response.submission_id)
    sol = s.get(Solicitation, response.solicitation_id)
    unit = s.get(Unit, sub.unit_id) if sub is not None and sub.unit_id is not None else None
    return _named(
        unit.name if unit else "",
        sub.title if sub else "",
        sol.topic if sol else "",
        sol.deadline if sol else None,
    )


def _named(unit: str, title: str, topic: str, deadline: date | None) -> str:
    """危化科《危化科汛期隐患排查》，约稿《汛期安全》（截止6月20日）."""
    if deadline is None:
        return f"{unit}《{title}》"
    return f"{unit}《{title}》，约稿《{topic}》（截止{deadline.month}月{deadline.day}日）"
