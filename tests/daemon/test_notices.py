"""The weekly reminder and the monthly notice, on schedule and by hand, on a small Panjin's ledger.

The schedule is decided by pure functions of an injected clock and of what the outbox already
holds: holiday weeks, a month that starts on a holiday, a daemon that was down. The rest runs
on a real ledger (SQLite and PostgreSQL): idempotency by outbox key, corrections, 明细 replies.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import cast
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from typer.testing import CliRunner

from daemon import ledger, service
from daemon.adoptions import adopt, revoke
from daemon.cli import app
from daemon.config import Config, ConfigError, load_config
from daemon.db import session
from daemon.models import Message, MessageState, Submission, SubmissionAuthor, SubmissionStatus, Unit
from daemon.notice_mail import options_from_config, render_weekly
from daemon.notice_reply import answer_details
from daemon.notices import (
    NoticeError,
    build_notice_for,
    due_monthly,
    due_weekly,
    queue_notice,
    queue_weekly,
    run_due,
    schedule_from_config,
)
from daemon.runtime import Runtime
from outbox.table import Outbox
from parsers.types import ParsedMessage
from scoring.calendar import WorkCalendar
from scoring.periods import parse_month, parse_week

CST = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkCalendar()
OFFICE = "office@pjyjj.example.cn"
TITLE = "关于2025年6月份政务信息报送及采用情况的通报"
CONFIG = """
[mailbox]
user = "pjyjjbgs@163.com"

[smtp]
user = "pjyjjbgs@163.com"

[database]
url = "{url}"

[office]
name = "盘锦市应急管理局办公室"
emails = ["office@pjyjj.example.cn"]

[[units]]
name = "危化科"

[[units]]
name = "盘山县应急管理局"
group = "county"

[[units]]
name = "宣教科"

[[publicists]]
unit = "危化科"
name = "王强"
email = "wangqiang.wh@163.com"

[[publicists]]
unit = "盘山县应急管理局"
name = "李娜"
email = "psxyjj_xx@163.com"

[[publicists]]
unit = "宣教科"
name = "刘洋"
email = "liuyang.xj@163.com"
"""
RECIPIENTS = [OFFICE, "wangqiang.wh@163.com", "psxyjj_xx@163.com", "liuyang.xj@163.com"]


def cst(day: str, clock: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=CST)


# --------------------------------------------------------------------------- the schedule, pure


def test_the_weekly_reminder_is_due_on_the_last_workday_at_three() -> None:
    """2025-W25 ends on Friday 20 June: its reminder is due at 15:00 that day, not a minute earlier."""
    assert due_weekly(cst("2025-06-20", "14:59"), CALENDAR, {"2025-W24"}) is None
    assert due_weekly(cst("2025-06-20", "15:00"), CALENDAR, {"2025-W24"}) == "2025-W25"
    assert due_weekly(cst("2025-06-22", "23:00"), CALENDAR, {"2025-W24", "2025-W25"}) is None


def test_national_day_weeks_have_their_reminders_on_their_own_last_workdays() -> None:
    """2025-W40 works Monday and Tuesday only (reminder Tuesday 30 September); W41 ends with the
    adjusted Saturday 11 October (调休), so its reminder waits for that Saturday."""
    assert due_weekly(cst("2025-09-30", "15:00"), CALENDAR, set()) == "2025-W40"
    assert due_weekly(cst("2025-10-03"), CALENDAR, {"2025-W40"}) is None
    assert due_weekly(cst("2025-10-10", "16:00"), CALENDAR, {"2025-W40"}) is None
    assert due_weekly(cst("2025-10-11", "15:00"), CALENDAR, {"2025-W40"}) == "2025-W41"


def test_a_week_without_workdays_gets_no_reminder() -> None:
    """The 2026 Spring Festival week (W08) has no workday: nothing is due in it, and W07's
    reminder came on its adjusted Saturday, 14 February."""
    assert due_weekly(cst("2026-02-14", "15:00"), CALENDAR, set()) == "2026-W07"
    assert due_weekly(cst("2026-02-22", "23:59"), CALENDAR, {"2026-W07"}) is None


def test_a_month_starting_on_a_holiday_gets_its_notice_on_the_first_workday() -> None:
    """October 2025 begins with the National Day holiday: September's notice waits for 9 October, 09:00."""
    assert due_monthly(cst("2025-10-01", "09:00"), CALENDAR, {"2025-08"}) is None
    assert due_monthly(cst("2025-10-09", "08:59"), CALENDAR, {"2025-08"}) is None
    assert due_monthly(cst("2025-10-09", "09:00"), CALENDAR, {"2025-08"}) == "2025-09"
    assert due_monthly(cst("2025-07-01", "09:00"), CALENDAR, {"2025-05"}) == "2025-06"


def test_the_schedule_is_configurable() -> None:
    """`[schedule]` sets the times (a TOML time or "HH:MM"); a typo is refused in Chinese."""
    raw = {"weekly_reminder": "16:30", "monthly_notice": "08:00", "remind_publicists": True}
    schedule = schedule_from_config(Config(path=None, extra={"schedule": raw}))
    assert (schedule.weekly_reminder.hour, schedule.monthly_notice.hour, schedule.remind_publicists) == (
        16,
        8,
        True,
    )
    assert due_weekly(cst("2025-06-20", "16:00"), CALENDAR, {"2025-W24"}, at=schedule.weekly_reminder) is None
    with pytest.raises(ConfigError, match="weekly_remindr"):
        schedule_from_config(Config(path=None, extra={"schedule": {"weekly_remindr": "15:00"}}))


def test_the_notice_is_configurable() -> None:
    """`[notice]`: table order and how many units to praise; anything else is refused."""
    options = options_from_config(Config(path=None, extra={"notice": {"order": "score", "praise": 5}}))
    assert (options.order, options.praise) == ("score", 5)
    with pytest.raises(ConfigError, match="order"):
        options_from_config(Config(path=None, extra={"notice": {"order": "alphabet"}}))


# --------------------------------------------------------------------------- a ledger


@dataclass
class Bureau:
    engine: Engine
    config: Config
    path: Path
    uids: list[int] = field(default_factory=list)

    def draft(
        self, unit: str, title: str, received: datetime, author: str, *, status: str = "accepted"
    ) -> int:
        """A draft as the pipeline records it (one message each); its submission id."""
        uid = len(self.uids) + 1
        self.uids.append(uid)
        with session(self.engine) as s:
            units = {u.name: u.id for u in s.exec(select(Unit))}
            msg = Message(
                account="pjyjjbgs@163.com",
                folder="INBOX",
                uidvalidity=1,
                uid=uid,
                sha256=hashlib.sha256(f"{uid}{title}".encode()).hexdigest(),
                size=4096,
                internaldate=received,
                state=MessageState.ACKNOWLEDGED,
                outcome=status,
                from_addr="someone@163.com",
                subject=title,
                created_at=received,
                updated_at=received,
            )
            s.add(msg)
            s.flush()
            assert msg.id is not None
            sub = Submission(
                message_row_id=msg.id,
                unit_id=units.get(unit),
                sender="someone@163.com",
                title=title,
                text_hash=hashlib.sha256(title.encode()).hexdigest(),
                chars=900,
                status=SubmissionStatus(status),
                source=f"{title}.docx",
                received_at=received,
                created_at=received,
            )
            s.add(sub)
            s.flush()
            assert sub.id is not None
            s.add(
                SubmissionAuthor(
                    submission_id=sub.id, position=0, name=author, unit_text=unit, unit_id=units.get(unit)
                )
            )
            return sub.id

    def queued(self) -> list[str]:
        with session(self.engine, readonly=True) as s:
            return sorted(s.exec(select(Outbox.key)).all())

    def row(self, key: str) -> EmailMessage:
        with session(self.engine, readonly=True) as s:
            raw = s.exec(select(Outbox.raw).where(Outbox.key == key)).one()
        return cast(EmailMessage, message_from_bytes(raw, policy=policy.default))


@pytest.fixture
def bureau(engine: Engine, db_url: str, tmp_path: Path) -> Bureau:
    """危化科 sends a draft in each of June's first three weeks (draft 1 adopted by the city on
    20 June), 宣教科 one a week, 盘山县 a single one; plus a draft held from an unknown sender."""
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(url=db_url), encoding="utf-8")
    config = load_config(path)
    with session(engine) as s:
        ledger.sync_units(s, config.units, config.publicists)
    b = Bureau(engine, config, path)
    first = b.draft("危化科", "我市完成首批危化品企业安全风险评估", cst("2025-06-03"), "王强")
    b.draft("危化科", "危化科组织重点企业应急演练观摩", cst("2025-06-10"), "王强")
    b.draft("危化科", "危化科开展汛期危险化学品企业专项检查", cst("2025-06-17"), "李明")
    for day in ("2025-06-04", "2025-06-11", "2025-06-18", "2025-06-25"):
        b.draft("宣教科", f"宣教科开展安全生产月宣传活动{day[-2:]}", cst(day), "刘洋")
    b.draft("盘山县应急管理局", "盘山县开展防汛抢险应急演练", cst("2025-06-12"), "李娜")
    b.draft("危化科", "来历不明的稿件", cst("2025-06-26"), "某人", status="unverified")
    with session(engine) as s:
        adopt(
            s,
            config,
            submission_id=first,
            channel="市政府政务信息",
            adopted_at=cst("2025-06-20"),
            now=cst("2025-06-20"),
        )
    return b


def test_a_daemon_down_over_the_due_times_sends_each_once_on_restart(bureau: Bureau) -> None:
    """The daemon was down from Thursday 26 June to Wednesday 2 July: on restart W26's reminder
    and June's notice are queued, once; W25's stale reminder is not; W27's comes on its Friday."""
    assert run_due(bureau.engine, bureau.config, now=cst("2025-07-02")) == ["2025-W26", "2025-06"]
    queued = bureau.queued()
    assert queued == sorted(
        [f"weekly_shortfall|2025-W26|{OFFICE}", *(f"notice|2025-06|{to}" for to in RECIPIENTS)]
    )
    assert run_due(bureau.engine, bureau.config, now=cst("2025-07-02", "10:05")) == []
    assert bureau.queued() == queued
    assert run_due(bureau.engine, bureau.config, now=cst("2025-07-04", "15:00")) == ["2025-W27"]


def test_a_new_installation_does_not_notify_the_months_before_it(bureau: Bureau) -> None:
    """The first mail came on 3 June: May's notice (due that morning) is skipped, W23's reminder is not."""
    assert run_due(bureau.engine, bureau.config, now=cst("2025-06-06", "16:00")) == ["2025-W23"]


def test_a_notice_is_queued_once_per_recipient_with_its_documents(bureau: Bureau) -> None:
    """Queuing June's notice again adds nothing; each copy carries the .docx and the .xlsx."""
    now = cst("2025-07-01", "09:00")
    with session(bureau.engine) as s:
        notice = build_notice_for(s, bureau.config, parse_month("2025-06"), now=now)
        assert queue_notice(s, bureau.config, notice, now=now) == 4
        assert queue_notice(s, bureau.config, notice, now=now) == 0
    mail = bureau.row(f"notice|2025-06|{OFFICE}")
    assert mail["Subject"] == f"【通报】{TITLE}"
    assert [a.get_filename() for a in mail.iter_attachments()] == [
        "2025年6月份政务信息通报.docx",
        "2025年6月份政务信息通报.xlsx",
    ]
    text = mail.get_body(("plain",))
    assert text is not None
    body = text.get_content()
    assert "1．危化科：全月报送3篇（应报4篇），第26周未报送。" in body
    assert "2．盘山县应急管理局：全月报送1篇（应报4篇），第23周、第25至26周未报送。" in body
    assert "《我市完成首批危化品企业安全风险评估》（危化科）" in body
    html = mail.get_body(("html",))
    assert html is not None
    assert "市政府政务信息（1分/篇）</th>" in html.get_content()


def test_a_month_not_over_has_no_notice(bureau: Bureau) -> None:
    """On 30 June, June cannot be notified yet."""
    with session(bureau.engine) as s, pytest.raises(NoticeError, match="尚未结束"):
        build_notice_for(s, bureau.config, parse_month("2025-06"), now=cst("2025-06-30"))


def test_a_revoked_adoption_is_corrected_explicitly(bureau: Bureau) -> None:
    """The city's adoption of 危化科's draft is revoked after the notice went out: the correction
    says 更正, lists the change against the notice as sent, and is queued under its own key."""
    with session(bureau.engine) as s, pytest.raises(NoticeError, match="尚未发出"):
        build_notice_for(
            s, bureau.config, parse_month("2025-06"), now=cst("2025-07-01", "09:00"), correct=True
        )
    run_due(bureau.engine, bureau.config, now=cst("2025-07-01", "09:00"))
    with session(bureau.engine) as s:
        first = s.exec(
            select(Submission.id).where(Submission.title == "我市完成首批危化品企业安全风险评估")
        ).one()
        revoke(s, submission_id=first, now=cst("2025-07-07"))
    now = cst("2025-07-08", "09:00")
    with session(bureau.engine) as s:
        notice = build_notice_for(s, bureau.config, parse_month("2025-06"), now=now, correct=True)
        assert queue_notice(s, bureau.config, notice, now=now) == 4
    assert notice.subject == TITLE + "（更正）"
    assert notice.changes == (
        "危化科：市政府政务信息采用由1篇更正为0篇，本月得分由1.9分更正为0.9分，累计得分由1.9分更正为0.9分",
        "撤销采用：《我市完成首批危化品企业安全风险评估》（危化科，市政府政务信息）",
    )
    assert f"notice_correction|2025-06#1|{OFFICE}" in bureau.queued()
    with session(bureau.engine) as s, pytest.raises(NoticeError, match="没有变化"):
        build_notice_for(s, bureau.config, parse_month("2025-06"), now=now, correct=True)


QUOTED = f"------------------ 原始邮件 ------------------\n发件人：盘锦市应急管理局办公室\n主题：{TITLE}\n回复“明细”二字即可"


def publicist_reply(bureau: Bureau, *, said: str, sender: str = "wangqiang.wh@163.com") -> ParsedMessage:
    """A reply to the June notice, as 163 webmail writes it: own text above the quoted notice."""
    notice = bureau.row(f"notice|2025-06|{sender}")
    return ParsedMessage(
        message_id="<reply-1@163.com>",
        from_addr=sender,
        from_name="王强",
        subject=f"回复：【通报】{TITLE}",
        date="2025-07-01T10:00:00+08:00",
        auto_reply=False,
        in_reply_to=str(notice["Message-ID"]),
        references=(str(notice["Message-ID"]),),
        body=f"{said}\n\n{QUOTED}",
    )


def details_keys(bureau: Bureau) -> list[str]:
    return [k for k in bureau.queued() if k.startswith("details|")]


def test_a_publicist_who_replies_details_gets_the_units_lines(bureau: Bureau) -> None:
    """王强 replies 明细 to the June notice: he gets every line of 危化科's June, in his thread."""
    run_due(bureau.engine, bureau.config, now=cst("2025-07-01", "09:00"))
    parsed = publicist_reply(bureau, said="明细")
    now = cst("2025-07-01", "10:00")
    with session(bureau.engine) as s:
        assert answer_details(s, bureau.config, parsed, now=now)
        assert answer_details(s, bureau.config, parsed, now=now)  # the same request: still one row
    (key,) = details_keys(bureau)
    assert key.startswith("details|2025-06#")
    assert key.endswith("|wangqiang.wh@163.com")
    mail = bureau.row(key)
    assert mail["In-Reply-To"] == "<reply-1@163.com>"
    assert mail["Subject"] == "【得分明细】危化科2025年6月得分1.9分"
    text = mail.get_body(("plain",))
    assert text is not None
    content = text.get_content()
    assert "王强同志" in content
    assert "《我市完成首批危化品企业安全风险评估》报送计0.3分" in content
    assert "被市政府《政务信息》采用计1分" in content
    assert "2025-W26（6月23日至6月29日）报送0篇" in content


def test_a_details_subject_alone_asks_about_the_latest_notice(bureau: Bureau) -> None:
    """刘洋 writes a new mail titled 明细, replying to nothing: he gets 宣教科's lines of the month
    last notified."""
    run_due(bureau.engine, bureau.config, now=cst("2025-07-01", "09:00"))
    parsed = ParsedMessage(
        message_id="<ask@163.com>",
        from_addr="liuyang.xj@163.com",
        from_name="刘洋",
        subject="明细",
        date="",
        auto_reply=False,
    )
    with session(bureau.engine) as s:
        assert answer_details(s, bureau.config, parsed, now=cst("2025-07-03"))
    (key,) = details_keys(bureau)
    assert bureau.row(key)["Subject"] == "【得分明细】宣教科2025年6月得分1.2分"


def test_a_reply_that_only_quotes_the_word_is_not_a_request(bureau: Bureau) -> None:
    """明细 only in the quoted notice, or from an unregistered sender: not handled, nothing queued."""
    run_due(bureau.engine, bureau.config, now=cst("2025-07-01", "09:00"))
    now = cst("2025-07-01", "10:00")
    thanks = publicist_reply(bureau, said="收到，谢谢")
    stranger = replace(publicist_reply(bureau, said="明细"), from_addr="stranger@qq.com")
    with session(bureau.engine) as s:
        assert not answer_details(s, bureau.config, thanks, now=now)
        assert not answer_details(s, bureau.config, stranger, now=now)
    assert details_keys(bureau) == []


def test_the_daemon_job_queues_what_is_due_by_its_clock(
    bureau: Bureau, caplog: pytest.LogCaptureFixture
) -> None:
    """The scheduler's job asks with the runtime's clock; a failure is logged, never raised."""
    rt = SimpleNamespace(
        engine=bureau.engine,
        config=bureau.config,
        poller=SimpleNamespace(clock=lambda: cst("2025-07-01", "09:30")),
    )
    service._notices(cast(Runtime, rt))
    assert f"notice|2025-06|{OFFICE}" in bureau.queued()
    broken = SimpleNamespace(
        engine=bureau.engine,
        config=replace(bureau.config, extra={"schedule": {"weekly": 1}}),
        poller=rt.poller,
    )
    service._notices(cast(Runtime, broken))
    assert "scheduled reminder/notice failed" in caplog.text


def test_the_weekly_reminder_names_lagging_units_and_waiting_mail(bureau: Bureau) -> None:
    """Friday 27 June, 15:00: 危化科 and 盘山县 sent nothing in W26; the office sees each unit's June
    against 4 and the held draft; with publicist reminders on, 王强 and 李娜 are reminded too."""
    now = cst("2025-06-27", "15:00")
    with session(bureau.engine) as s:
        assert queue_weekly(s, bureau.config, parse_week("2025-W26"), now=now, remind_publicists=True) == 3
    assert bureau.queued() == sorted(
        [
            f"weekly_shortfall|2025-W26|{OFFICE}",
            "weekly_reminder|2025-W26|wangqiang.wh@163.com",
            "weekly_reminder|2025-W26|psxyjj_xx@163.com",
        ]
    )
    office = bureau.row(f"weekly_shortfall|2025-W26|{OFFICE}")
    assert (
        office["Subject"]
        == "【周提醒】第26周（6月23日至6月29日）报送情况：2个单位未完成本周任务，1封来信待处理"
    )
    body = office.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "1．危化科：本周已报0篇（应报1篇），6月已报3篇（应报4篇）" in text
    assert "2．盘山县应急管理局：本周已报0篇（应报1篇），6月已报1篇（应报4篇）" in text
    assert "宣教科：4/4" in text
    assert "来历不明的稿件" in text
    reminder = bureau.row("weekly_reminder|2025-W26|psxyjj_xx@163.com")
    assert reminder["Subject"] == "【提醒】盘山县应急管理局第26周（6月23日至6月29日）政务信息尚未报送"


def test_the_weekly_reminder_lists_the_months_missed_column_items(bureau: Bureau) -> None:
    """Column shortfalls judged from 1 June: on Friday 27 June the office reads that 宣教科, which
    files no 动态要闻 item, missed each workday so far, this week's 26 June included (27 June is
    not over); 盘山县 owes the county's WeChat column. Without columns_from nothing is listed."""
    now = cst("2025-06-27", "15:00")
    config = replace(bureau.config, extra={**bureau.config.extra, "scoring": {"columns_from": "2025-06-01"}})
    with session(bureau.engine, readonly=True) as s:
        text = render_weekly(s, config, parse_week("2025-W26"), now=now).text
        before = render_weekly(s, bureau.config, parse_week("2025-W26"), now=now).text
    assert "6月截至目前栏目未按周期更新" in text
    lines = [t.strip() for t in text.splitlines()]
    daily = next(t for t in lines if "宣教科：局网站“动态要闻”" in t)
    assert "6月26日" in daily
    assert "6月27日" not in daily
    assert any("盘山县应急管理局：" in t and "县区应急专栏" in t for t in lines)
    assert "栏目未按周期更新" not in before


def test_the_cli_renders_without_sending_and_queues_with_send(bureau: Bureau, tmp_path: Path) -> None:
    """`notice monthly --out DIR` writes the four files and queues nothing; `--send` queues them;
    `remind weekly` prints the office's reminder."""
    runner = CliRunner()
    out = tmp_path / "notice"
    result = runner.invoke(
        app, ["--config", str(bureau.path), "notice", "monthly", "--month", "2025-06", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.suffix for p in out.iterdir()) == [".docx", ".html", ".txt", ".xlsx"]
    assert bureau.queued() == []
    result = runner.invoke(
        app, ["--config", str(bureau.path), "notice", "monthly", "--month", "2025-06", "--send"]
    )
    assert result.exit_code == 0, result.output
    assert "共 4 封" in result.output
    with session(bureau.engine, readonly=True) as s:
        assert (
            s.exec(select(Outbox.kind).where(col(Outbox.key).startswith("notice|"))).all() == ["notice"] * 4
        )
    result = runner.invoke(app, ["--config", str(bureau.path), "remind", "weekly", "--week", "2025-W26"])
    assert result.exit_code == 0, result.output
    assert "主题：【周提醒】第26周" in result.output
    result = runner.invoke(app, ["--config", str(bureau.path), "notice", "monthly", "--month", "2025-13"])
    assert result.exit_code == 1
    assert "无法识别的月份" in result.stderr


def test_a_stale_time_never_counts_a_notice_twice(bureau: Bureau) -> None:
    """Two daemons' clocks around 09:00 on 1 July: whichever asks first queues, the other finds it done."""
    first = run_due(bureau.engine, bureau.config, now=cst("2025-07-01", "09:00"))
    second = run_due(bureau.engine, bureau.config, now=cst("2025-07-01", "09:00") + timedelta(seconds=1))
    assert (first, second) == (["2025-W26", "2025-06"], [])


def test_a_busy_years_notices_are_those_of_the_whole_year(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    """The notice reads the other months' plain drafts as counts: on a busy year its table, praise,
    shortfalls, adopted drafts and every line are those computed from every draft of the year.
    宣教科 sends little: its draft of Monday 29 September fills W40 (checked in October), that of
    Saturday 2 August W31 (checked in July), though neither month holds them."""
    from daemon.notice_mail import options_from_config
    from daemon.records_io import load_records
    from daemon.scoring_io import load_calendar, load_profile, year_period
    from outbox.notice import build_notice
    from scoring.engine import score_month
    from scoring.periods import day_of
    from tests.daemon.test_scores_cli import busy_year

    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(url=db_url) + "\n[scoring]\ncolumns_from = 2025-03-01\n", encoding="utf-8")
    config = load_config(path)
    with session(engine) as s:
        ledger.sync_units(s, config.units, config.publicists)
    busy_year(engine, seed=10, quiet="宣教科")
    quiet = Bureau(engine, config, path)
    for day in ("2025-07-08", "2025-08-02", "2025-09-29", "2025-10-15"):
        quiet.draft("宣教科", f"宣教科开展安全生产宣传{day}", cst(day), "刘洋")
    now = cst("2026-01-15")
    profile, calendar, options = load_profile(config), load_calendar(config), options_from_config(config)
    with session(engine, readonly=True) as s:
        whole = load_records(s, config, year_period(2025))
        for label in ("2025-01", "2025-06", "2025-07", "2025-10", "2025-12"):
            month = parse_month(label)
            scores = score_month(
                month=month, profile=profile, calendar=calendar, now=now, **whole.engine_args()
            )
            expected = build_notice(
                scores=scores,
                submissions=whole.submissions,
                adoptions=whole.adoptions,
                profile=profile,
                calendar=calendar,
                bureau=config.office.bureau,
                office=config.office.name,
                issued=day_of(now),
                now=now,
                order=options.order,
                praise=options.praise,
                recipients=options.recipients,
            )
            notice = build_notice_for(s, config, month, now=now)
            assert notice == expected, label
            assert notice.adopted, label
            # January ended before the regulation (9 May 2025): no rules, no lines.
            assert bool(notice.details) == (label != "2025-01"), label
            short = {f.unit: f for f in notice.shortfalls}
            if label == "2025-07":
                assert short["宣教科"].weeks == (27, 29, 30)
            if label == "2025-10":
                assert short["宣教科"].weeks == (41, 43, 44)
