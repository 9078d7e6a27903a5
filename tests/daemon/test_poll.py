"""A polling pass end to end: real Dovecot (behind the 163-like proxy), aiosmtpd, and the ledger on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from daemon.db import session
from daemon.intake import Intake
from daemon.models import Adoption, Message, MessageState, PollState, Submission, SubmissionStatus
from daemon.models_scoring import SolicitationResponse
from daemon.runtime import Runtime, runtime
from tests.daemon.bureau import CST, OFFICE, Clock, Draft, config_for, environment, mail, parsed_mail, text_of
from tests.dovecot import Account, dovecot_fixture, dovecot_server_fixture  # noqa: F401
from tests.imap163 import Imap163Proxy, imap163_fixture  # noqa: F401
from tests.smtpserver import SmtpServer

pytestmark = pytest.mark.dovecot


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, dovecot: Account) -> None:
    for k, v in environment(dovecot).items():
        monkeypatch.setenv(k, v)


@pytest.fixture
def ledger(db_url: str) -> str:
    """Every end-to-end case runs on SQLite and on PostgreSQL."""
    return db_url


@contextmanager
def bureau(
    tmp_path: Path,
    dovecot: Account,
    smtp: SmtpServer,
    imap163: Imap163Proxy,
    clock: Clock,
    db_url: str | None = None,
    **mailbox: object,
) -> Iterator[Runtime]:
    config = config_for(tmp_path, dovecot, smtp, imap_port=imap163.port, db_url=db_url, **mailbox)
    with runtime(config, clock=clock, workers=1) as rt:
        yield rt


def _states(rt: Runtime) -> dict[int, MessageState]:
    with session(rt.engine) as s:
        return {m.uid: m.state for m in s.exec(select(Message))}


def _subs(rt: Runtime) -> list[Submission]:
    with session(rt.engine) as s:
        return list(s.exec(select(Submission).order_by(Submission.id)))  # type: ignore[arg-type]


@pytest.mark.usefixtures("env")
def test_a_publicists_draft_is_recorded_flagged_and_answered_in_thread(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, imap163: Imap163Proxy, ledger: str
) -> None:
    """The everyday case through a 163-like server: one receipt, in the publicist's thread."""
    raw = mail("危化科", Draft("危化企业专项检查"), message_id="<orig-1@163.com>")
    uid = dovecot.append(raw, internaldate=datetime(2025, 6, 20, 9, 30, tzinfo=CST))
    with bureau(tmp_path, dovecot, smtp, imap163, Clock(), ledger) as rt:
        report = rt.poller.run_pass()
        subs = _subs(rt)
        assert _states(rt) == {uid: MessageState.ACKNOWLEDGED}
    assert report.fetched == 1
    assert "ID" in imap163.commands
    assert [(s.title, s.status, s.images) for s in subs] == [
        ("危化企业专项检查", SubmissionStatus.ACCEPTED, 2)
    ]
    assert b"XinbaoDone" in dovecot.flags(uid)
    [sent] = smtp.received
    receipt = parsed_mail(sent.raw)
    assert sent.rcpt_tos == ("wangqiang.wh@163.com",)
    assert receipt["In-Reply-To"] == "<orig-1@163.com>"
    assert receipt["Auto-Submitted"] == "auto-replied"
    text = text_of(sent.raw)
    assert "危化企业专项检查" in text
    assert "王强（危化科）" in text


@pytest.mark.usefixtures("env")
def test_a_weekend_backlog_is_fetched_in_batches_while_parsing_goes_on(
    tmp_path: Path,
    dovecot: Account,
    smtp: SmtpServer,
    imap163: Imap163Proxy,
    ledger: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Twelve drafts piled up over a weekend: fetched five at a time (each batch stored in one
    commit), parsed on two workers while the next batch downloads, every one recorded, flagged and
    answered exactly once in a single pass."""
    for i in range(12):
        dovecot.append(mail("危化科", Draft(f"周末第{i + 1}篇", body=[f"周末第{i + 1}篇正文，各不相同。"])))
    batches: list[int] = []
    store_batch = Intake.store_batch

    def spy(self: Intake, **kw: Any) -> list[tuple[int, bool]]:
        batches.append(len(kw["batch"]))
        return store_batch(self, **kw)

    monkeypatch.setattr(Intake, "store_batch", spy)
    config = config_for(tmp_path, dovecot, smtp, imap_port=imap163.port, db_url=ledger, batch_size=5)
    with runtime(config, clock=Clock(), workers=2) as rt:
        report = rt.poller.run_pass()
        subs = _subs(rt)
        states = _states(rt)
    assert batches == [5, 5, 2]
    assert (report.fetched, report.sent, report.error) == (12, 12, None)
    assert sorted(s.title for s in subs) == sorted(f"周末第{i + 1}篇" for i in range(12))
    assert {s.status for s in subs} == {SubmissionStatus.ACCEPTED}
    assert set(states.values()) == {MessageState.ACKNOWLEDGED}
    assert sorted(parsed_mail(m.raw)["In-Reply-To"] for m in smtp.received) == sorted(
        parsed_mail(raw)["Message-ID"] for raw in dovecot.messages().values()
    )
    # Each receipt counts the drafts recorded before it, whichever commit they shared.
    for period in ("本周（第\\d+周）", "本月"):
        counts = [re.search(period + r"已报送 (\d+) 篇", text_of(m.raw)) for m in smtp.received]
        assert sorted(int(c.group(1)) for c in counts if c) == list(range(1, 13))


@pytest.mark.usefixtures("env")
def test_a_rejected_draft_corrected_by_reply_replaces_the_rejection(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, imap163: Imap163Proxy, ledger: str
) -> None:
    """The publicist forgot 复审人, reads the rejection, replies with the fixed zip: one draft counts."""
    unsigned = Draft("汛期值班工作部署", signoff=("撰稿人：危化科 王强", "初审人：刘洋"))
    dovecot.append(mail("危化科", unsigned, message_id="<first@163.com>"))
    clock = Clock()
    with bureau(tmp_path, dovecot, smtp, imap163, clock, ledger) as rt:
        rt.poller.run_pass()
        [rejection] = smtp.received
        assert "缺少复审人" in text_of(rejection.raw)
        reply_to = parsed_mail(rejection.raw)["Message-ID"]
        fixed = Draft(
            "汛期值班工作部署（修改）",
            body=["汛期值班工作部署已经全面完成。", "各单位严格落实24小时值班制度。"],
        )
        dovecot.append(mail("危化科", fixed, in_reply_to=reply_to, message_id="<second@163.com>"))
        clock.advance(hours=1)
        rt.poller.run_pass()
        subs = _subs(rt)
    assert [(s.status, s.replaces_id) for s in subs] == [
        (SubmissionStatus.REPLACED, None),
        (SubmissionStatus.ACCEPTED, subs[0].id),
    ]
    assert "已登记" in text_of(smtp.received[1].raw)


@pytest.mark.usefixtures("env")
def test_the_same_draft_sent_twice_counts_once(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, imap163: Imap163Proxy, ledger: str
) -> None:
    """A publicist unsure whether it arrived sends it again: recorded as a duplicate, told so."""
    draft = Draft("危化企业专项检查")
    dovecot.append(mail("危化科", draft, message_id="<a@163.com>"))
    dovecot.append(mail("危化科", draft, message_id="<b@163.com>", subject="再发一次"))
    with bureau(tmp_path, dovecot, smtp, imap163, Clock(), ledger) as rt:
        rt.poller.run_pass()
        subs = _subs(rt)
    assert [s.status for s in subs] == [SubmissionStatus.ACCEPTED, SubmissionStatus.DUPLICATE]
    assert "不重复计数" in text_of(smtp.received[1].raw)


@pytest.mark.usefixtures("env")
def test_unknown_senders_are_held_answered_politely_and_reported_next_day(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, imap163: Imap163Proxy, ledger: str
) -> None:
    """A stranger's draft is kept as unverified; the office gets the day's digest the next day."""
    dovecot.append(
        mail("陌生单位", Draft("某某公司安全生产月活动")), internaldate=datetime(2025, 6, 20, 9, tzinfo=CST)
    )
    clock = Clock()
    with bureau(tmp_path, dovecot, smtp, imap163, clock, ledger) as rt:
        rt.poller.run_pass()
        assert [s.status for s in _subs(rt)] == [SubmissionStatus.UNVERIFIED]
        assert [r.rcpt_tos for r in smtp.received] == [("stranger@qq.com",)]
        clock.advance(days=1)
        rt.poller.run_pass()
        rt.poller.run_pass()
    digests = [r for r in smtp.received if r.rcpt_tos == (OFFICE,)]
    assert len(digests) == 1
    assert "stranger@qq.com" in text_of(digests[0].raw)
    assert "稿件：《某某公司安全生产月活动》" in text_of(digests[0].raw)


@pytest.mark.usefixtures("env")
def test_automatic_replies_are_never_answered(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, imap163: Imap163Proxy, ledger: str
) -> None:
    """An out-of-office reply to one of our receipts ends there: no reply, no loop."""
    uid = dovecot.append(
        mail("危化科", subject="自动回复：信息报送回执", extra_headers=[("Auto-Submitted", "auto-replied")])
    )
    with bureau(tmp_path, dovecot, smtp, imap163, Clock(), ledger) as rt:
        rt.poller.run_pass()
        assert _states(rt) == {uid: MessageState.IGNORED}
    assert smtp.received == []


@pytest.mark.usefixtures("env")
def test_mail_over_the_size_limit_is_not_downloaded_and_the_sender_told(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, imap163: Imap163Proxy, ledger: str
) -> None:
    """A zip of uncompressed photos over the limit: headers only, and a precise rejection."""
    dovecot.append(mail("危化科", Draft("大量照片", photos=40)))
    config = config_for(tmp_path, dovecot, smtp, imap_port=imap163.port, db_url=ledger)
    config = replace(config, limits=replace(config.limits, max_message_bytes=10_000))
    with runtime(config, clock=Clock(), workers=1) as rt:
        report = rt.poller.run_pass()
        assert _subs(rt) == []
    assert report.too_large == 1
    assert "邮件过大" in text_of(smtp.received[0].raw)


@pytest.mark.usefixtures("env")
def test_a_uidvalidity_change_rescans_without_counting_anything_again(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, imap163: Imap163Proxy, ledger: str
) -> None:
    """The server renumbers the folder: every message is seen again, none counted or answered twice."""
    dovecot.append(mail("危化科", Draft("危化企业专项检查")))
    dovecot.append(
        mail(
            "盘山县应急管理局",
            Draft("盘山县防汛演练", signoff=("撰稿人：盘山县应急局 李娜", "初审：张三 复审：李四")),
        )
    )
    with bureau(tmp_path, dovecot, smtp, imap163, Clock(), ledger) as rt:
        rt.poller.run_pass()
        with session(rt.engine) as s:
            # What the ledger knew belongs to an older numbering of the folder.
            cursor = s.exec(select(PollState)).one()
            cursor.uidvalidity = (cursor.uidvalidity or 0) + 1
            for m in s.exec(select(Message)):
                m.uidvalidity = cursor.uidvalidity
        rt.poller.run_pass()
        subs = _subs(rt)
        with session(rt.engine) as s:
            outcomes = sorted(m.outcome or "" for m in s.exec(select(Message)))
    assert len(subs) == 2
    assert outcomes == ["accepted", "accepted", "seen", "seen"]
    assert len(smtp.received) == 2


@pytest.mark.usefixtures("env")
def test_a_connection_reset_mid_fetch_loses_nothing(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, imap163: Imap163Proxy, ledger: str
) -> None:
    """The line drops in the middle of a FETCH: no half message is parsed; the next pass gets it all."""
    for i in range(3):
        dovecot.append(mail("危化科", Draft(f"第{i + 1}篇稿件", body=[f"第{i + 1}篇正文，内容各不相同。"])))
    imap163.faults.reset_after_fetch_bytes = 20_000
    with bureau(tmp_path, dovecot, smtp, imap163, Clock(), ledger) as rt:
        first = rt.poller.run_pass()
        assert first.error is not None
        rt.poller.run_pass()
        rt.poller.run_pass()
        subs = _subs(rt)
        states = _states(rt)
    assert sorted(s.title for s in subs) == ["第1篇稿件", "第2篇稿件", "第3篇稿件"]
    assert set(states.values()) == {MessageState.ACKNOWLEDGED}
    assert len(smtp.received) == 3


@pytest.mark.usefixtures("env")
def test_move_mode_files_processed_mail_without_the_move_command(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, imap163: Imap163Proxy, ledger: str
) -> None:
    """163 has no MOVE: processed mail is copied to 已处理 and expunged by UID from the inbox."""
    dovecot.append(mail("危化科", Draft("危化企业专项检查")))
    with bureau(tmp_path, dovecot, smtp, imap163, Clock(), ledger, mark="move") as rt:
        rt.poller.run_pass()
    assert dovecot.messages("INBOX") == {}
    assert len(dovecot.messages("已处理")) == 1
    assert "MOVE" not in imap163.commands


@pytest.mark.usefixtures("env")
def test_a_forged_publicist_address_is_held_and_the_office_told(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, imap163: Imap163Proxy, ledger: str
) -> None:
    """Someone writes as 危化科's publicist without the provider's proof: held, not counted; the
    note goes to the registered address only and says nothing of the unit's records."""
    forged = mail(
        "危化科", Draft("伪造的稿件"), genuine=False, extra_headers=[("Reply-To", "thief@evil.example")]
    )
    dovecot.append(forged, internaldate=datetime(2025, 6, 20, 9, tzinfo=CST))
    clock = Clock()
    with bureau(tmp_path, dovecot, smtp, imap163, clock, ledger) as rt:
        rt.poller.run_pass()
        assert [s.status for s in _subs(rt)] == [SubmissionStatus.UNVERIFIED]
        clock.advance(days=1)
        rt.poller.run_pass()
    [note, digest] = smtp.received
    assert note.rcpt_tos == ("wangqiang.wh@163.com",)
    assert "身份验证" in text_of(note.raw)
    assert "本周" not in text_of(note.raw)
    assert digest.rcpt_tos == (OFFICE,)
    assert "疑似冒用" in text_of(digest.raw)


@pytest.mark.usefixtures("env")
def test_mail_claiming_to_be_the_office_is_obeyed_only_when_genuine(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, imap163: Imap163Proxy, ledger: str
) -> None:
    """The office address is the key to commands: a forged one is never answered, and the office hears of it."""
    dovecot.append(mail("局办公室", Draft("通知"), sender=OFFICE, genuine=False, message_id="<forged@x>"))
    dovecot.append(mail("局办公室", Draft("通知"), sender=OFFICE, message_id="<real@x>"))
    with bureau(tmp_path, dovecot, smtp, imap163, Clock(), ledger) as rt:
        rt.poller.run_pass()
        with session(rt.engine) as s:
            outcomes = sorted(m.outcome or "" for m in s.exec(select(Message)))
        assert _subs(rt) == []
    assert outcomes == ["forged_office", "office"]
    [alert] = smtp.received
    assert alert.rcpt_tos == (OFFICE,)
    assert "冒用办公室邮箱" in text_of(alert.raw)


@pytest.mark.usefixtures("env")
def test_an_office_bulletin_by_mail_records_adoptions_and_answers_the_office(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, imap163: Imap163Proxy, ledger: str
) -> None:
    """The office forwards 市政府《政务信息》's list: matched titles become adoptions, the rest are reported."""
    dovecot.append(mail("危化科", Draft("危化企业专项检查")))
    bulletin = "市政府政务信息6月采用：\n危化企业专项检查（危化科）\n某县召开防汛会议（盘山县）\n"
    dovecot.append(mail("局办公室", sender=OFFICE, subject="【采用】市政府政务信息2025年6月", body=bulletin))
    with bureau(tmp_path, dovecot, smtp, imap163, Clock(), ledger) as rt:
        rt.poller.run_pass()
        with session(rt.engine) as s:
            adoptions = s.exec(select(Adoption)).all()
            outcomes = sorted(m.outcome or "" for m in s.exec(select(Message)))
    assert [a.channel for a in adoptions] == ["市政府政务信息"]
    assert outcomes == ["accepted", "command"]
    [reply] = [r for r in smtp.received if r.rcpt_tos == (OFFICE,)]
    text = text_of(reply.raw)
    assert "危化企业专项检查" in text
    assert "某县召开防汛会议" in text


@pytest.mark.usefixtures("env")
def test_the_office_commissions_then_grades_a_solicitation_by_mail(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, imap163: Imap163Proxy, ledger: str
) -> None:
    """【约稿】 registers 汛期安全 for 危化科, 王强 answers with the topic in his subject, and the
    office's 【约稿评分】 mail grades his answer 3 less 0.5: recorded, and the office is told."""
    register = "主题：汛期安全\n截止：2025-06-30\n单位：危化科\n"
    dovecot.append(mail("局办公室", sender=OFFICE, subject="【约稿】汛期安全", body=register))
    dovecot.append(
        mail("危化科", Draft("危化企业汛期专项检查"), subject="【约稿】汛期安全：危化企业汛期专项检查")
    )
    with bureau(tmp_path, dovecot, smtp, imap163, Clock(), ledger) as rt:
        rt.poller.run_pass()
        with session(rt.engine) as s:
            [response] = s.exec(select(SolicitationResponse)).all()
        grades = f"您好：\n#{response.id} 3分 扣0.5分 错别字2处\n"
        dovecot.append(mail("局办公室", sender=OFFICE, subject="【约稿评分】汛期安全", body=grades))
        dovecot.append(mail("局办公室", sender=OFFICE, subject="【约稿评分】", body=grades, genuine=False))
        rt.poller.run_pass()
        with session(rt.engine) as s:
            graded = s.get(SolicitationResponse, response.id)
            outcomes = sorted(m.outcome or "" for m in s.exec(select(Message)))
    assert graded is not None
    assert (graded.grade, graded.deduction, graded.graded_by) == (3, Decimal("0.5"), OFFICE)
    assert outcomes == ["accepted", "command", "command", "forged_office"]
    texts = [text_of(r.raw) for r in smtp.received if r.rcpt_tos == (OFFICE,)]
    assert any(
        "危化科《危化企业汛期专项检查》，约稿《汛期安全》（截止6月30日）：评3分，扣0.5分" in t for t in texts
    )
    assert any("冒用办公室邮箱" in t for t in texts)


@pytest.mark.usefixtures("env")
def test_a_corrected_answer_to_a_solicitation_still_answers_it(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, imap163: Imap163Proxy, ledger: str
) -> None:
    """王强 answers 【约稿】汛期安全 but forgets 复审人; he replies to the rejection with the fixed
    draft (subject “回复：【需修改】…”, no 【约稿】 in it): the fixed draft is the unit's answer."""
    register = "主题：汛期安全\n截止：2025-06-30\n单位：危化科\n"
    dovecot.append(mail("局办公室", sender=OFFICE, subject="【约稿】汛期安全", body=register))
    unsigned = Draft("汛期值班工作部署", signoff=("撰稿人：危化科 王强", "初审人：刘洋"))
    dovecot.append(
        mail("危化科", unsigned, subject="【约稿】汛期安全：汛期值班工作部署", message_id="<a1@163.com>")
    )
    clock = Clock()
    with bureau(tmp_path, dovecot, smtp, imap163, clock, ledger) as rt:
        rt.poller.run_pass()
        [rejection] = [r for r in smtp.received if "缺少复审人" in text_of(r.raw)]
        head = parsed_mail(rejection.raw)
        fixed = Draft(
            "汛期值班工作部署（修改）", body=["汛期值班工作部署已经全面完成。", "严格落实24小时值班制度。"]
        )
        dovecot.append(
            mail(
                "危化科",
                fixed,
                subject=f"回复：{head['Subject']}",
                in_reply_to=head["Message-ID"],
                message_id="<a2@163.com>",
            )
        )
        clock.advance(hours=1)
        rt.poller.run_pass()
        subs = _subs(rt)
        with session(rt.engine) as s:
            answers = [r.submission_id for r in s.exec(select(SolicitationResponse))]
    assert [(x.title, x.status) for x in subs] == [
        ("汛期值班工作部署", SubmissionStatus.REPLACED),
        ("汛期值班工作部署（修改）", SubmissionStatus.ACCEPTED),
    ]
    assert answers == [subs[1].id]


@pytest.mark.usefixtures("env")
def test_a_corrected_research_article_stays_a_research_article(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, imap163: Imap163Proxy, ledger: str
) -> None:
    """危化科's 【调研】 article of 2,000+ characters lacks 复审人; the fixed article comes back in
    reply to the rejection (subject “回复：【需修改】…”, no 【调研】): it counts as the year's research
    article, not as an ordinary draft."""
    body = [
        f"第{i}部分：汛期值班值守工作调研，围绕隐患排查、物资储备、预案演练和信息报送逐项分析。" * 5
        for i in range(12)
    ]
    unsigned = Draft("关于汛期值班值守工作的调研", body=body, signoff=("撰稿人：危化科 王强", "初审人：刘洋"))
    dovecot.append(
        mail("危化科", unsigned, subject="【调研】关于汛期值班值守工作的调研", message_id="<r1@163.com>")
    )
    clock = Clock()
    with bureau(tmp_path, dovecot, smtp, imap163, clock, ledger) as rt:
        rt.poller.run_pass()
        [rejection] = smtp.received
        assert "缺少复审人" in text_of(rejection.raw)
        assert "不足" not in text_of(rejection.raw)
        head = parsed_mail(rejection.raw)
        fixed = Draft("关于汛期值班值守工作的调研", body=body)
        reply = mail("危化科", fixed, subject=f"回复：{head['Subject']}", in_reply_to=head["Message-ID"])
        dovecot.append(reply)
        clock.advance(hours=1)
        rt.poller.run_pass()
        subs = _subs(rt)
    assert [(x.status, x.category) for x in subs] == [
        (SubmissionStatus.REPLACED, "research"),
        (SubmissionStatus.ACCEPTED, "research"),
    ]
