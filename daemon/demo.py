"""`xinbao demo`: the whole system end to end on embedded servers, with a month of sample mail.

pymap (IMAP) and aiosmtpd (SMTP) run in-process on loopback; a throw-away config and SQLite
database go to `var/demo/`, and stay there for the other commands to explore.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine

from daemon.config import Config, load_config
from daemon.embedded import EmbeddedIMAP, EmbeddedSMTP, ReceivedMail, provider_stamp
from daemon.samples import DEMO_SOLICITATION, demo_config_toml, demo_month

if TYPE_CHECKING:
    from daemon.runtime import Runtime

DEMO_YEAR, DEMO_MONTH = 2025, 6
PASSWORD_ENV = "XINBAO_DEMO_PASSWORD"  # noqa: S105 (names an env var)


def _demo_clock(start: datetime) -> Callable[[], datetime]:
    """Time as the demo tells it: the evening the month's mail was in, advancing in real time."""
    t0 = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - t0)


def run_demo(out: Path, console: Console) -> int:
    from daemon import queries
    from daemon.guard import Guard
    from daemon.runtime import exclusive, runtime
    from parsers.archive import rar_backend_available

    # aiosmtpd warns about its own deprecated attribute on every login; not ours to fix.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    os.environ.setdefault(PASSWORD_ENV, "demo-授权码".encode().hex())
    password = os.environ[PASSWORD_ENV]
    samples = demo_month(year=DEMO_YEAR, month=DEMO_MONTH)
    imap = EmbeddedIMAP(user="pjyjjbgs@163.com", password=password)
    smtp = EmbeddedSMTP(user="pjyjjbgs@163.com", password=password, strict_sender=True)
    imap_port, smtp_port = imap.start(), smtp.start()
    try:
        config_path = out / "config.toml"
        config_path.write_text(
            demo_config_toml(imap_port=imap_port, smtp_port=smtp_port, db_path="xinbao.db", raw_store="raw"),
            encoding="utf-8",
        )
        config = load_config(config_path)
        console.rule("[bold]信报演示：2025年6月，10 个单位的报送邮件")
        console.print(
            f"内置 IMAP 服务器 127.0.0.1:{imap_port}（pymap），内置 SMTP 服务器 127.0.0.1:{smtp_port}（aiosmtpd）"
        )
        for sample in samples:
            imap.append(provider_stamp(sample.raw), internaldate=sample.internaldate)
        console.print(
            f"已向报送邮箱投递 {len(samples)} 封邮件（其中含有问题的稿件、重复稿、自动回复和未登记邮箱来信）"
        )

        console.rule("离线解析一封样例邮件（xinbao parse --json）")
        with Guard(limits=config.limits, rar=rar_backend_available()) as guard:
            parsed = guard.parse(samples[0].raw)
        console.print_json(json.dumps(parsed.to_json(), ensure_ascii=False))

        console.rule("收取并处理（xinbao poll）")
        clock = _demo_clock(datetime(DEMO_YEAR, DEMO_MONTH, 30, 10, 0, tzinfo=UTC))
        started = time.monotonic()
        with runtime(config, clock=clock) as rt, exclusive(rt):
            _solicit(console, rt.engine, config)
            report = rt.poller.run_pass()
            elapsed = time.monotonic() - started
            again = rt.poller.run_pass()
            graded = _grade_by_mail(imap, rt, config)
            rows = queries.submissions(rt.engine)
        console.print(
            f"处理 {report.fetched} 封邮件用时 {elapsed:.1f} 秒（{report.fetched / elapsed:.1f} 封/秒）；"
            f"邮箱中标记 {report.acknowledged} 封；发出回执/退稿 {report.sent} 封"
        )
        console.print(f"再次收取：新邮件 {again.fetched} 封（已处理的邮件不会重复计数）")
        _summary(console, rows)
        _replies(console, smtp.messages)
        _graded(console, graded, smtp.messages)
        _notices(console, config, out, now=clock())
        console.rule()
        console.print(f"演示数据保存在 {out}/，可继续查看，例如：")
        console.print(f"  .venv/bin/xinbao --config {config_path} submissions --month 2025-06")
        console.print(f"  .venv/bin/xinbao --config {config_path} status")
        return 0 if report.error is None else 1
    finally:
        imap.stop()
        smtp.stop()


def _solicit(console: Console, engine: Engine, config: Config) -> None:
    """The office's 约稿 of the month, registered on its first day (as `xinbao solicit add` does)."""
    from daemon.db import session
    from daemon.solicitations import Request, register

    topic, day, units = DEMO_SOLICITATION
    deadline = date(DEMO_YEAR, DEMO_MONTH, day)
    with session(engine) as s:
        register(
            s,
            config,
            Request(topic, deadline, units),
            created_by="demo",
            now=datetime(DEMO_YEAR, DEMO_MONTH, 1, 1, 0, tzinfo=UTC),
        )
    console.print(
        f"办公室约稿：《{topic}》，截止{deadline.month}月{deadline.day}日，约稿单位：{'、'.join(units)}"
    )


def _grade_by_mail(imap: EmbeddedIMAP, rt: Runtime, config: Config) -> str:
    """The office grades the answers to its 约稿 by mail (【约稿评分】), as it would from its own
    mailbox; the mail's subject, or "" when there was nothing to grade."""
    from daemon.db import session
    from daemon.grading import ungraded
    from daemon.samples import make_submission_email

    with session(rt.engine, readonly=True) as s:
        waiting = ungraded(s)
    if not waiting:
        return ""
    notes = ("扣0.5分 错别字2处", "", "内容较好")
    lines = [f"#{u.response} {3 - i % 2}分 {notes[i % 3]}".rstrip() for i, u in enumerate(waiting)]
    subject = f"【约稿评分】{DEMO_SOLICITATION[0]}"
    when = datetime(DEMO_YEAR, DEMO_MONTH, 30, 9, 0, tzinfo=UTC)
    raw = make_submission_email(
        sender=config.office.emails[0],
        sender_name=config.office.name,
        to=config.mailbox.user,
        subject=subject,
        date=when,
        attachments=(),
        body="约稿评分如下：\n" + "\n".join(lines) + "\n",
    )
    imap.append(provider_stamp(raw), internaldate=when)
    rt.poller.run_pass()
    return subject


def _graded(console: Console, subject: str, received: list[ReceivedMail]) -> None:
    """The office's answer to its 【约稿评分】 mail."""
    if not subject:
        return
    for m in received:
        msg = message_from_bytes(m.data, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        if str(msg["Subject"]) == f"回复：{subject}":
            body = msg.get_body(("plain",))
            console.rule(f"办公室用邮件为约稿评分：{msg['Subject']}")
            console.print(body.get_content() if body is not None else "", soft_wrap=True, markup=False)


def _summary(console: Console, rows: list[dict[str, object]]) -> None:
    table = Table(title="各单位报送情况（2025年6月）")
    for header in ("单位", "计数稿件", "退稿", "重复", "待核实"):
        table.add_column(header)
    by_unit: dict[str, Counter[str]] = {}
    for r in rows:
        by_unit.setdefault(str(r["unit"] or "（未登记）"), Counter())[str(r["status"])] += 1
    for unit, c in sorted(by_unit.items(), key=lambda kv: -kv[1]["accepted"]):
        table.add_row(unit, str(c["accepted"]), str(c["rejected"]), str(c["duplicate"]), str(c["unverified"]))
    console.print(table)


def _replies(console: Console, received: list[ReceivedMail]) -> None:
    kinds: Counter[str] = Counter()
    examples: dict[str, EmailMessage] = {}
    for m in received:
        msg = message_from_bytes(m.data, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        subject = str(msg["Subject"])
        kind = subject[1 : subject.find("】")] if subject.startswith("【") else "其他"
        kinds[kind] += 1
        examples.setdefault(kind, msg)
    console.print("发出的邮件：" + "，".join(f"{k} {v} 封" for k, v in kinds.most_common()))
    for kind in ("需修改", "已收到"):
        if kind in examples:
            msg = examples[kind]
            body = msg.get_body(("plain",))
            console.rule(f"示例：{msg['Subject']}")
            console.print(body.get_content() if body is not None else "", soft_wrap=True, markup=False)


def _notices(console: Console, config: Config, out: Path, *, now: datetime) -> None:
    """The last step: the month's weekly reminder and monthly notice, rendered into out/notice/."""
    from sqlmodel import col, select

    from daemon import notices
    from daemon.adoptions import adopt
    from daemon.db import session
    from daemon.models import Submission, SubmissionStatus
    from daemon.notice_mail import render_weekly
    from daemon.runtime import open_database
    from daemon.scoring_io import load_calendar
    from scoring.periods import SHANGHAI, parse_month, parse_week

    console.rule("周提醒和月度通报（xinbao remind weekly / xinbao notice monthly）")
    calendar = load_calendar(config)
    week = notices.due_weekly(now, calendar, set())
    notice_at = datetime(DEMO_YEAR, DEMO_MONTH + 1, 1, 9, tzinfo=SHANGHAI)
    month = notices.due_monthly(notice_at, calendar, set())
    assert week is not None
    assert month is not None
    engine = open_database(config)
    try:
        with session(engine) as s:
            # The office records what the city and the province took up this month (xinbao adopt).
            accepted = s.exec(
                select(Submission)
                .where(Submission.status == SubmissionStatus.ACCEPTED)
                .order_by(col(Submission.id))
            ).all()
            picked: dict[int | None, Submission] = {}
            for sub in accepted:
                picked.setdefault(sub.unit_id, sub)
            channels = ("市政府政务信息", "市委盘锦信息", "省级")
            for sub, channel, day in zip(list(picked.values())[:3], channels, (20, 25, 27), strict=False):
                assert sub.id is not None
                when = datetime(DEMO_YEAR, DEMO_MONTH, day, 12, tzinfo=SHANGHAI)
                adopt(s, config, submission_id=sub.id, channel=channel, adopted_at=when, now=when)
                console.print(f"办公室登记采用：《{sub.title}》——{channel}")
            # The reminder as the daemon sends it: on the week's last workday, at the configured time.
            due = notices.weekly_moment(
                parse_week(week), calendar, notices.schedule_from_config(config).weekly_reminder
            )
            reminder = render_weekly(s, config, parse_week(week), now=due or now)
            notice = notices.build_notice_for(s, config, parse_month(month), now=notice_at)
    finally:
        engine.dispose()
    files = notices.render_notice_files(notice)
    files[f"{week}报送提醒.txt"] = f"{reminder.subject}\n\n{reminder.text}".encode()
    files[f"{week}报送提醒.html"] = (reminder.html or "").encode()
    console.print(
        f"按计划：{week} 的周提醒在该周最后一个工作日 15:00 发给办公室；"
        f"{month} 的月度通报在下月第一个工作日 09:00 发给办公室和各单位信息宣传员"
    )
    console.print(f"周提醒：{reminder.subject}")
    console.print(
        f"通报：{notice.subject}（表扬 {len(notice.praised)} 个单位，未完成任务 {len(notice.shortfalls)} 个单位）"
    )
    for path in notices.write_notice(files, out / "notice"):
        console.print(f"  已生成 {path}")
