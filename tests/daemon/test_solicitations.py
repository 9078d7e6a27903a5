"""Solicitations (约稿): the office registers a topic, units are told, responses are linked and graded."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from daemon import solicitations
from daemon.db import session
from daemon.models import Submission
from daemon.models_scoring import Solicitation, SolicitationResponse
from outbox.table import Outbox
from parsers.types import ParsedMessage
from tests.daemon.test_scores_cli import Bureau, make_bureau

CST = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 2, 9, 0, tzinfo=CST)
OFFICE_BODY = "各单位：\n主题：汛期安全生产\n截止：2025年6月20日\n单位：危化科、盘山县应急局\n"


@pytest.fixture
def bureau(engine: Engine, db_url: str, tmp_path: Path) -> Bureau:
    return make_bureau(engine, db_url, tmp_path, '\n[mailbox]\nuser = "pjyjjbgs@163.com"\n')


def office_mail(subject: str, body: str) -> ParsedMessage:
    return ParsedMessage(
        message_id="<o1@pjyjj>", from_addr="office@pjyjj.example.cn", from_name="办公室",
        subject=subject, date="", auto_reply=False, body=body,
    )  # fmt: skip


def reply(subject: str, in_reply_to: str = "") -> ParsedMessage:
    return ParsedMessage(
        message_id="<r1@163>", from_addr="wangqiang.wh@163.com", from_name="王强",
        subject=subject, date="", auto_reply=False, in_reply_to=in_reply_to,
    )  # fmt: skip


def test_the_office_mail_is_read_registered_and_the_units_are_told(bureau: Bureau) -> None:
    """A 【约稿】 mail with 主题/截止/单位 lines (an alias among them) registers and notifies 危化科, 盘山县."""
    with session(bureau.engine) as s:
        sol = solicitations.handle_mail(
            s, bureau.config, office_mail("【约稿】汛期安全", OFFICE_BODY), message_row_id=None,
            sha="ab" * 32, now=NOW, quiet=False,
        )  # fmt: skip
        assert sol is not None
        assert (sol.topic, sol.deadline.isoformat()) == ("汛期安全生产", "2025-06-20")
        assert sol.units == ["危化科", "盘山县应急管理局"]
        kinds = sorted((o.kind, o.recipient) for o in s.exec(select(Outbox)))
    assert kinds == [
        ("solicitation", "psxyjj_xx@163.com"),
        ("solicitation", "wangqiang.wh@163.com"),
        ("solicitation_reply", "office@pjyjj.example.cn"),
    ]


def test_a_bad_office_mail_is_answered_with_what_is_missing(bureau: Bureau) -> None:
    """No 截止 line, or a unit that does not exist: nothing registered, the office is told why."""
    with pytest.raises(solicitations.SolicitationError, match="截止"):
        solicitations.parse_request("主题：汛期安全")
    with session(bureau.engine) as s:
        body = "主题：汛期安全\n截止：2025-06-20\n单位：宣传科"
        sol = solicitations.handle_mail(
            s, bureau.config, office_mail("【约稿】", body), message_row_id=None, sha="cd" * 32, now=NOW,
            quiet=False,
        )  # fmt: skip
        assert sol is None
        assert s.exec(select(Solicitation)).first() is None
        row = s.exec(select(Outbox)).one()
    assert row.kind == "solicitation_reply"


def test_responses_link_by_subject_tag_or_by_replying_to_the_notice(bureau: Bureau) -> None:
    """王强 answers once with 【约稿】+topic in the subject, once by replying to the notice."""
    assert bureau.ok("solicit", "add", "--topic", "汛期安全", "--deadline", "2025-06-20", "--unit", "危化科")
    first = bureau.draft("危化科", "危化科汛期隐患排查", datetime(2025, 6, 10, 9, tzinfo=CST))
    second = bureau.draft("危化科", "危化科汛期值班值守", datetime(2025, 6, 12, 9, tzinfo=CST))
    with session(bureau.engine) as s:
        notice = s.exec(select(Outbox).where(Outbox.kind == "solicitation")).one()
        subs = {x.id: x for x in s.exec(select(Submission))}
        assert solicitations.link_responses(s, reply("【约稿】汛期安全 危化科"), [subs[first]], now=NOW) == 1
        assert solicitations.link_responses(s, reply("回复", notice.message_id), [subs[second]], now=NOW) == 1
        assert solicitations.link_responses(s, reply("危化科日常信息"), [subs[second]], now=NOW) == 0
        linked = sorted(r.submission_id for r in s.exec(select(SolicitationResponse)))
    assert linked == [first, second]


def test_graded_late_and_missing_responses_in_the_scores(bureau: Bureau) -> None:
    """Graded 3 with 0.5 off (2.5); 执法队's late answer and 盘山县's silence score 0, listed."""
    bureau.ok("solicit", "add", "--topic", "汛期安全", "--deadline", "2025-06-20",
              "--unit", "危化科", "--unit", "盘山县应急管理局", "--unit", "综合行政执法队")  # fmt: skip
    on_time = bureau.draft(
        "危化科", "危化科汛期隐患排查", datetime(2025, 6, 20, 17, tzinfo=CST), [("王强", "危化科")]
    )
    late = bureau.draft("综合行政执法队", "执法队汛期检查", datetime(2025, 6, 21, 9, tzinfo=CST))
    with session(bureau.engine) as s:
        subs = {x.id: x for x in s.exec(select(Submission))}
        solicitations.link_responses(s, reply("【约稿】汛期安全"), [subs[on_time]], now=NOW)
        solicitations.link_responses(s, reply("【约稿】汛期安全"), [subs[late]], now=NOW)
        first = s.exec(select(SolicitationResponse)).first()
        assert first is not None
        response_id = first.id
    out = bureau.run("solicit", "grade", str(response_id), "--score", "5")
    assert out.exit_code == 1
    bureau.ok("solicit", "grade", str(response_id), "--score", "3", "--deduct", "0.5", "--note", "错别字2处")
    assert "评3分，扣0.5分（命令行，" in bureau.ok("solicit", "list")
    scores = bureau.json("scores", "--month", "2025-06")
    lines = {
        u["unit"]: [(line["points"], line["note"]) for line in u["lines"] if line["rule"] == "solicitation"]
        for u in scores["units"]
    }
    assert lines["危化科"] == [
        (2.5, "约稿《汛期安全》：《危化科汛期隐患排查》评3分，扣0.5分（错别字2处），计2.5分，撰稿人王强")
    ]
    assert lines["综合行政执法队"] == [
        (0, "约稿《汛期安全》：《执法队汛期检查》逾期报送（截止6月20日），计0分")
    ]
    assert lines["盘山县应急管理局"] == [(0, "约稿《汛期安全》（截止6月20日）未报送，计0分")]


def test_solicit_add_refuses_unknown_units_and_bad_dates(bureau: Bureau) -> None:
    """The office is told in Chinese what to fix; nothing is registered."""
    assert "没有这些单位：宣传科" in bureau.run("solicit", "add", "--topic", "t", "--deadline", "2025-06-20",
                                          "--unit", "宣传科").stderr  # fmt: skip
    assert "无法识别截止日期" in bureau.run("solicit", "add", "--topic", "t", "--deadline", "明天").stderr
    with session(bureau.engine, readonly=True) as s:
        assert s.exec(select(Solicitation)).first() is None
