"""Backup, restore and rebuild, as the office's restore drill does them (docs/operations.md)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import col, select

from daemon.adoptions import revoke
from daemon.config import Config
from daemon.db import make_engine, session
from daemon.models import Adoption, Message, Submission
from daemon.models_scoring import Solicitation, SolicitationResponse
from daemon.rawstore import RawStore
from daemon.recovery import RecoveryError, backup, reprocess
from daemon.runtime import runtime
from daemon.solicitations import Request, grade, register
from tests.daemon.bureau import OFFICE, Clock, Draft, config_for, environment, mail
from tests.dovecot import Account, dovecot_fixture, dovecot_server_fixture  # noqa: F401
from tests.smtpserver import SmtpServer

pytestmark = pytest.mark.dovecot


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, dovecot: Account, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch) -> Config:
    for k, v in environment(dovecot).items():
        monkeypatch.setenv(k, v)
    return config_for(tmp_path / "live", dovecot, smtp)


def _ledger(config: Config) -> list[tuple[str, str, int | None]]:
    engine = make_engine(config.database_url())
    with session(engine) as s:
        rows = [
            (x.title, x.status.value, x.unit_id)
            for x in s.exec(select(Submission).order_by(col(Submission.title)))
        ]
    engine.dispose()
    return rows


def _poll(config: Config) -> None:
    with runtime(config, clock=Clock(), workers=1) as rt:
        rt.poller.run_pass()


def _adopt(config: Config, title: str) -> None:
    engine = make_engine(config.database_url())
    with session(engine) as s:
        sub = s.exec(select(Submission).where(Submission.title == title)).one()
        now = datetime(2025, 6, 25, tzinfo=UTC)
        s.add(
            Adoption(
                submission_id=sub.id,
                channel="市政府政务信息",
                level="municipal",
                adopted_at=now,
                created_at=now,
            )
        )
    engine.dispose()


def _answer_the_solicitation(config: Config, dovecot: Account) -> None:
    """The office registers 汛期安全 for 危化科 (due 30 June); 危化科 answers on 20 June."""
    answer = mail("危化科", Draft("危化企业汛期检查"), subject="【约稿】汛期安全：危化企业汛期检查")
    dovecot.append(answer, internaldate=datetime(2025, 6, 20, 1, tzinfo=UTC))
    with runtime(config, clock=Clock(), workers=1) as rt:
        with session(rt.engine) as s:
            register(s, config, Request("汛期安全", date(2025, 6, 30), ("危化科",)), created_by="cli",
                     now=datetime(2025, 6, 2, tzinfo=UTC), notify=False)  # fmt: skip
        rt.poller.run_pass()


def test_the_restore_drill_rebuilds_a_lost_week_from_raw_mail_without_answering_again(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, config: Config
) -> None:
    """Monday's backup, then two more drafts; Wednesday the disk with the database dies. Restoring
    Monday's database and rebuilding from the raw store gets every draft back, adoption included."""
    dovecot.append(mail("危化科", Draft("危化企业专项检查")))
    dovecot.append(mail("危化科", Draft("汛期值班", signoff=("撰稿人：危化科 王强",))))
    _poll(config)
    _adopt(config, "危化企业专项检查")
    engine = make_engine(config.database_url())
    report = backup(config, engine, tmp_path / "backup", now=datetime(2025, 6, 23, tzinfo=UTC))
    engine.dispose()
    assert report.raw_files == 2
    copy = RawStore(tmp_path / "backup" / "raw")  # the journals came along: the copy rebuilds alone
    assert [copy.meta(d) is not None for d in copy.digests()] == [True, True]
    dovecot.append(
        mail(
            "盘山县应急管理局",
            Draft("盘山县防汛演练", signoff=("撰稿人：盘山县应急局 李娜", "初审：张三 复审：李四")),
        )
    )
    dovecot.append(mail("危化科", Draft("危化企业专项检查"), message_id="<again@163.com>"))  # sent twice
    _poll(config)
    before = _ledger(config)
    sent = len(smtp.received)

    # The database is lost; the raw store (on another disk) is not. Restore Monday's database.
    Path(config.database_url().removeprefix("sqlite:///")).unlink()
    shutil.copy(tmp_path / "backup" / "xinbao.db", config.database_url().removeprefix("sqlite:///"))
    with runtime(config, clock=Clock(), offline=True, quiet=True) as rt:
        rebuilt = reprocess(rt.poller.pipeline)
    assert rebuilt.restored == 2
    assert _ledger(config) == before
    assert len(smtp.received) == sent
    engine = make_engine(config.database_url())
    with session(engine) as s:
        [(_adoption, sub)] = s.exec(
            select(Adoption, Submission).where(Adoption.submission_id == Submission.id)
        ).all()
        assert sub.title == "危化企业专项检查"
        assert sub.status.value == "accepted"
        assert len(s.exec(select(Message)).all()) == 4
    engine.dispose()


def test_a_backup_needs_an_empty_directory(tmp_path: Path, config: Config) -> None:
    """Backing up over an older backup would mix two moments: refused with a clear message."""
    target = tmp_path / "old-backup"
    target.mkdir()
    (target / "xinbao.db").write_bytes(b"older")
    engine = make_engine(config.database_url())
    with pytest.raises(RecoveryError, match="不是空目录"):
        backup(config, engine, target, now=datetime(2025, 6, 23, tzinfo=UTC))
    engine.dispose()


def test_a_rebuild_keeps_solicitation_answers_and_their_grades(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, config: Config
) -> None:
    """危化科 answered the 汛期安全 solicitation as response #1, which the office graded 1 by mail, then
    3 less 0.5 by hand; rebuilding from raw mail keeps that one response, its number and the last
    grade: the grading mail, read again, does not undo what came after it."""
    _answer_the_solicitation(config, dovecot)
    engine = make_engine(config.database_url())
    with session(engine) as s:
        [response] = s.exec(select(SolicitationResponse)).all()
    office = mail("局办公室", sender=OFFICE, subject="【约稿评分】", body=f"#{response.id} 1分\n")
    dovecot.append(office, internaldate=datetime(2025, 6, 24, 1, tzinfo=UTC))
    _poll(config)
    with session(engine) as s:
        graded = s.get(SolicitationResponse, response.id)
        assert graded is not None
        assert (graded.grade, graded.graded_by) == (1, OFFICE)
        grade(
            s,
            response.id or 0,
            score=3,
            deduct=Decimal("0.5"),
            by="cli",
            now=datetime(2025, 6, 25, tzinfo=UTC),
        )
    with runtime(config, clock=Clock(), offline=True, quiet=True) as rt:
        reprocess(rt.poller.pipeline)
    with session(engine) as s:
        [(kept, sub)] = s.exec(
            select(SolicitationResponse, Submission).where(
                SolicitationResponse.submission_id == Submission.id
            )
        ).all()
    engine.dispose()
    assert (kept.id, kept.grade, kept.deduction, kept.graded_by) == (response.id, 3, Decimal("0.5"), "cli")
    assert (sub.title, sub.status.value) == ("危化企业汛期检查", "accepted")


def test_a_rebuild_does_not_carry_out_the_offices_mailed_commands_again(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, config: Config
) -> None:
    """The office mailed a 【约稿】 and a 【采用】 bulletin naming two drafts, then revoked one
    adoption by hand. Rebuilding reads those mails again but carries out neither a second time:
    one solicitation, the same two adoptions (one still revoked), nothing counted twice."""
    for title, day in (("危化企业专项检查", 19), ("汛期值班值守", 20)):
        draft = Draft(title, body=[f"6月{day}日，{title}工作有序开展，全体人员在岗在位。"])
        dovecot.append(mail("危化科", draft), internaldate=datetime(2025, 6, day, 1, tzinfo=UTC))
    register = "主题：汛期安全\n截止：2025-06-30\n单位：危化科\n"
    bulletin = "市政府政务信息6月采用：\n危化企业专项检查（危化科）\n汛期值班值守（危化科）\n"
    for subject, body, day in (("【约稿】汛期安全", register, 21), ("【采用】市政府政务信息", bulletin, 22)):
        office = mail("局办公室", sender=OFFICE, subject=subject, body=body)
        dovecot.append(office, internaldate=datetime(2025, 6, day, 1, tzinfo=UTC))
    _poll(config)
    engine = make_engine(config.database_url())
    with session(engine) as s:
        revoked, standing = s.exec(select(Adoption).order_by(col(Adoption.id))).all()
        revoke(s, submission_id=revoked.submission_id, now=datetime(2025, 6, 23, tzinfo=UTC))
    with runtime(config, clock=Clock(), offline=True, quiet=True) as rt:
        reprocess(rt.poller.pipeline)
    with session(engine) as s:
        solicitations = s.exec(select(Solicitation)).all()
        adoptions = s.exec(select(Adoption, Submission).where(Adoption.submission_id == Submission.id)).all()
        outcomes = sorted(m.outcome or "" for m in s.exec(select(Message)))
    engine.dispose()
    assert [x.topic for x in solicitations] == ["汛期安全"]
    assert sorted((a.id, sub.title, a.revoked_at is not None) for a, sub in adoptions) == [
        (revoked.id, "危化企业专项检查", True),
        (standing.id, "汛期值班值守", False),
    ]
    assert outcomes == ["accepted", "accepted", "command", "command"]


def test_a_rebuild_run_again_after_a_crash_keeps_the_graded_answer(
    tmp_path: Path, dovecot: Account, smtp: SmtpServer, config: Config
) -> None:
    """A rebuild was killed halfway: the draft had been rebuilt once and linked to its solicitation
    again as a new, ungraded answer. Run again, the rebuild keeps the office's graded answer (its
    number and grade) and drops the leftover, whichever it meets first."""
    _answer_the_solicitation(config, dovecot)
    engine = make_engine(config.database_url())
    with session(engine) as s:
        [graded] = s.exec(select(SolicitationResponse)).all()
        grade(s, graded.id or 0, score=2, by="cli", now=datetime(2025, 6, 25, tzinfo=UTC))
        # What the killed run left: a rebuilt copy of the draft and its fresh, ungraded answer.
        original = s.get(Submission, graded.submission_id)
        assert original is not None
        copy = Submission.model_validate(original.model_dump(exclude={"id"}))
        s.add(copy)
        s.flush()
        now = datetime(2025, 6, 26, tzinfo=UTC)
        s.add(
            SolicitationResponse(
                solicitation_id=graded.solicitation_id, submission_id=copy.id, created_at=now
            )
        )
    with runtime(config, clock=Clock(), offline=True, quiet=True) as rt:
        reprocess(rt.poller.pipeline)
    with session(engine) as s:
        kept = s.exec(select(SolicitationResponse)).all()
    engine.dispose()
    assert [(r.id, r.grade) for r in kept] == [(graded.id, 2)]
