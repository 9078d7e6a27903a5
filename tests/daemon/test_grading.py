"""The office grades solicitation responses by mail (【约稿评分】), line by line, as people write them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from daemon import grading, solicitations
from daemon.db import session
from daemon.grading import GradeLine, Unreadable, parse_grades
from daemon.models import Submission
from daemon.models_scoring import SolicitationResponse
from daemon.notice_mail import queue_weekly, render_weekly
from outbox.table import Outbox
from parsers.types import ParsedMessage
from scoring.periods import parse_week
from tests.daemon.bureau import text_of
from tests.daemon.test_scores_cli import Bureau, make_bureau

CST = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 23, 9, 0, tzinfo=CST)


@pytest.fixture
def bureau(engine: Engine, db_url: str, tmp_path: Path) -> Bureau:
    return make_bureau(engine, db_url, tmp_path, '\n[mailbox]\nuser = "pjyjjbgs@163.com"\n')


def office_mail(body: str, subject: str = "【约稿评分】汛期安全") -> ParsedMessage:
    return ParsedMessage(
        message_id="<g1@pjyjj>", from_addr="office@pjyjj.example.cn", from_name="办公室",
        subject=subject, date="", auto_reply=False, body=body,
    )  # fmt: skip


def answered(bureau: Bureau) -> tuple[int, int]:
    """汛期安全 for 危化科 and 执法队 (due 20 June); both answer; the two response numbers."""
    bureau.ok("solicit", "add", "--topic", "汛期安全", "--deadline", "2025-06-20",
              "--unit", "危化科", "--unit", "综合行政执法队")  # fmt: skip
    drafts = [
        bureau.draft(
            "危化科", "危化科汛期隐患排查", datetime(2025, 6, 18, 9, tzinfo=CST), [("王强", "危化科")]
        ),
        bureau.draft("综合行政执法队", "执法队汛期夜查", datetime(2025, 6, 19, 9, tzinfo=CST)),
    ]
    with session(bureau.engine) as s:
        subs = {x.id: x for x in s.exec(select(Submission))}
        for draft in drafts:
            mail = ParsedMessage(
                message_id="<r@163>", from_addr="wangqiang.wh@163.com", from_name="王强",
                subject="【约稿】汛期安全", date="", auto_reply=False,
            )  # fmt: skip
            solicitations.link_responses(s, mail, [subs[draft]], now=NOW)
        ids = [r.id for r in s.exec(select(SolicitationResponse).order_by(col(SolicitationResponse.id)))]
    first, second = ids
    assert first is not None
    assert second is not None
    return first, second


def handle(
    bureau: Bureau, body: str, sha: str = "ab" * 32, sent_at: datetime = NOW
) -> tuple[list[GradeLine], str]:
    """The office's mail handled; the grades recorded and the reply's text."""
    with session(bureau.engine) as s:
        recorded = grading.handle_mail(
            s,
            bureau.config,
            office_mail(body),
            message_row_id=None,
            sha=sha,
            sent_at=sent_at,
            now=NOW,
            quiet=False,
        )
        reply = s.exec(
            select(Outbox).where(Outbox.kind == "grading_reply", col(Outbox.key).contains(sha[:16]))
        ).one()
        assert reply.recipient == "office@pjyjj.example.cn"
    return recorded, text_of(reply.raw)


def test_the_office_writes_grades_the_way_people_write_them() -> None:
    """Full-width digits, 回复/编号/#, a list number, 扣 anywhere, a note in brackets or after 说明："""
    text = "\n".join(
        [
            "各位：",
            "#7 3分 扣0.5分 错别字2处",
            "7：2分，内容较好",
            "回复12 评0分 内容严重不符",
            "１．＃８　２分（说明：标题不准确）",
            "12号 扣1分 得1分",
            "11 3",
            "2025年6月约稿评分如下：",
            "办公室 王丽",
        ]
    )
    grades, failed = parse_grades(text)
    assert [(g.response, g.score, g.deduct, g.note) for g in grades] == [
        (7, 3, Decimal("0.5"), "错别字2处"),
        (7, 2, Decimal(0), "内容较好"),
        (12, 0, Decimal(0), "内容严重不符"),
        (8, 2, Decimal(0), "标题不准确"),
        (12, 1, Decimal(1), ""),
        (11, 3, Decimal(0), ""),
    ]
    assert failed == []


def test_a_line_naming_a_response_without_a_usable_grade_is_reported() -> None:
    """五分 in words, 5 or 2.5 points: the line is reported with what is wrong, nothing guessed."""
    grades, failed = parse_grades("#9 五分\n#10 5分\n#13 2.5分 扣0.5分")
    assert grades == []
    assert failed == [
        Unreadable("#9 五分", "没有写明评分"),
        Unreadable("#10 5分", "评分应为0、1、2、3分之一，写的是5分"),
        Unreadable("#13 2.5分 扣0.5分", "评分应为0、1、2、3分之一，写的是2.5分"),
    ]


def test_grades_by_mail_count_in_the_scores_and_the_office_is_told(bureau: Bureau) -> None:
    """The office grades 危化科's answer 3 less 0.5 and names a response that does not exist: the
    grade counts in June's scores, the reply lists it, the bad line and 执法队's answer still to grade."""
    first, second = answered(bureau)
    recorded, text = handle(bureau, f"您好，评分如下：\n#{first} 3分 扣0.5分 错别字2处\n#999 2分\n办公室")
    assert [(g.response, g.score) for g in recorded] == [(first, 3)]
    assert (
        f"回复 #{first} 危化科《危化科汛期隐患排查》，约稿《汛期安全》（截止6月20日）：评3分，扣0.5分（错别字2处）"
        in text
    )
    assert "“#999 2分”：没有编号为 999 的约稿回复" in text
    assert f"待评分的约稿回复（共1条）：\n  回复 #{second} 综合行政执法队《执法队汛期夜查》" in text
    with session(bureau.engine) as s:
        graded = s.get(SolicitationResponse, first)
        assert graded is not None
        assert (graded.grade, graded.deduction, graded.graded_by) == (
            3,
            Decimal("0.5"),
            "office@pjyjj.example.cn",
        )
    listed = bureau.ok("solicit", "list")
    assert f"回复 #{first} 稿件" in listed
    assert "评3分，扣0.5分（office@pjyjj.example.cn，6月23日）" in listed
    [sol] = bureau.json("solicit", "list", "--json")
    assert sol["responses"][0]["graded_by"] == "office@pjyjj.example.cn"
    assert sol["responses"][1]["graded_at"] is None
    scores = bureau.json("scores", "--month", "2025-06")
    points = {
        u["unit"]: [x["points"] for x in u["lines"] if x["rule"] == "solicitation"] for u in scores["units"]
    }
    assert points["危化科"] == [2.5]


def test_a_second_mail_corrects_a_grade_and_says_what_it_was(bureau: Bureau) -> None:
    """The office changes its mind: the new grade replaces the old, and the reply names the old one."""
    first, second = answered(bureau)
    handle(bureau, f"#{first} 1分", sha="01" * 32)
    _, text = handle(bureau, f"#{first} 3分\n#{second} 2分", sha="02" * 32)
    assert "评3分；原评1分" in text
    assert "所有约稿回复均已评分。" in text


def test_a_mail_without_grades_asks_for_the_list(bureau: Bureau) -> None:
    """An empty 【约稿评分】 mail grades nothing and gets the responses still to grade, with the format."""
    first, second = answered(bureau)
    recorded, text = handle(bureau, "请发待评分清单。\n")
    assert recorded == []
    assert f"回复 #{first} 危化科《危化科汛期隐患排查》" in text
    assert f"回复 #{second} 综合行政执法队《执法队汛期夜查》" in text
    assert "这封邮件没有可登记的评分。" in text
    assert "评分格式：每行一条，如“#7 3分 扣0.5分 错别字2处”" in text


def test_the_quoted_reply_below_the_office_text_is_not_read_again(bureau: Bureau) -> None:
    """The office replies to the last answer: the quoted results below its own line grade nothing."""
    first, second = answered(bureau)
    body = f"#{second} 2分\n\n------------------ 原始邮件 ------------------\n  回复 #{first} 3分\n"
    recorded, _ = handle(bureau, body)
    assert [g.response for g in recorded] == [second]
    with session(bureau.engine) as s:
        untouched = s.get(SolicitationResponse, first)
        assert untouched is not None
        assert untouched.grade is None


def test_the_weekly_reminder_lists_the_responses_still_to_grade(bureau: Bureau) -> None:
    """Friday 27 June the office's reminder lists 执法队's ungraded answer, with how to grade it by
    mail; once it is graded, the section is gone."""
    first, second = answered(bureau)
    handle(bureau, f"#{first} 2分", sha="03" * 32)
    week, now = parse_week("2025-W26"), datetime(2025, 6, 27, 15, tzinfo=CST)
    with session(bureau.engine, readonly=True) as s:
        text = render_weekly(s, bureau.config, week, now=now).text
    assert "四、待评分的约稿回复（1条）：" in text
    assert f"1．回复#{second}　综合行政执法队《执法队汛期夜查》，约稿《汛期安全》（截止6月20日）" in text
    assert (
        f"请直接回复本邮件评分（或向本邮箱发送主题含【约稿评分】的邮件），每行一条，如“#{second} 3分 扣0.5分 错别字2处”。"
        in text
    )
    handle(bureau, f"#{second} 1分", sha="04" * 32)
    with session(bureau.engine, readonly=True) as s:
        assert "待评分的约稿回复" not in render_weekly(s, bureau.config, week, now=now).text


def test_a_mail_processed_late_does_not_undo_a_later_grade(bureau: Bureau) -> None:
    """The office mailed “1分” on 23 June, then changed its mind with `xinbao solicit grade` on the
    25th; the mail, read only afterwards, leaves the 25th's grade and says why."""
    first, _ = answered(bureau)
    bureau.ok("solicit", "grade", str(first), "--score", "3")  # system clock: after 23 June 2025
    _, text = handle(bureau, f"#{first} 1分", sha="05" * 32, sent_at=NOW)
    assert f"“#{first} 1分”：该回复已于" in text
    assert "改评为3分，晚于这封邮件，未更改" in text
    with session(bureau.engine) as s:
        kept = s.get(SolicitationResponse, first)
        assert kept is not None
        assert kept.grade == 3


def test_the_office_grades_by_replying_to_the_weekly_reminder(bureau: Bureau) -> None:
    """Friday's reminder lists both answers; the office hits reply and writes “#N 2分” above the
    quote: that grades. A reply saying only 收到, or a grading line in reply to other mail, does not."""
    first, second = answered(bureau)
    with session(bureau.engine) as s:
        queue_weekly(s, bureau.config, parse_week("2025-W26"), now=datetime(2025, 6, 27, 15, tzinfo=CST))
        reminder = s.exec(select(Outbox).where(Outbox.kind == "weekly_shortfall")).one()
        quote = f"\n\n------------------ 原始邮件 ------------------\n　　1．回复#{first}　危化科《危化科汛期隐患排查》\n"
        reply = replace(
            office_mail(f"#{second} 2分{quote}", subject=f"回复：{reminder.subject}"),
            in_reply_to=reminder.message_id,
        )
        assert grading.is_grading(s, reply)
        assert not grading.is_grading(s, replace(reply, body=f"收到，谢谢。{quote}"))
        assert not grading.is_grading(s, replace(reply, in_reply_to="<other@pjyjj>"))
        recorded = grading.handle_mail(
            s, bureau.config, reply, message_row_id=None, sha="06" * 32, sent_at=NOW, now=NOW, quiet=True
        )
    assert [(g.response, g.score) for g in recorded] == [(second, 2)]


_FULL_WIDTH = str.maketrans("0123456789#:", "０１２３４５６７８９＃：")
# Notes as offices write them, without the digits and words a grade is read from.
_NOTES = st.text(alphabet="错别字处内容较好标题不准确格式规范语句通顺，", max_size=12)


@given(
    response=st.integers(min_value=1, max_value=99_999),
    score=st.integers(min_value=0, max_value=3),
    deduct=st.sampled_from(["0", "0.5", "1", "1.25", "2"]),
    note=_NOTES,
    style=st.sampled_from(
        [
            "#{r} {s}分 扣{d}分 {n}",
            "{r}：{s}分，扣{d}分，{n}",
            "回复{r} 评{s}分 扣{d}分（{n}）",
            "编号{r}、得{s}分 扣{d} 说明：{n}",
        ]
    ),
    wide=st.booleans(),
)
def test_every_way_of_writing_a_grade_reads_back_the_same(
    response: int, score: int, deduct: str, note: str, style: str, wide: bool
) -> None:
    """Whatever the style, full-width or not, a grading line gives back its number, grade,
    deduction and note, and nothing else."""
    line = style.format(r=response, s=score, d=deduct, n=note)
    grades, failed = parse_grades(line.translate(_FULL_WIDTH) if wide else line)
    assert failed == []
    [g] = grades
    assert (g.response, g.score, g.deduct) == (response, score, Decimal(deduct))
    assert g.note == note.strip("，")


@given(st.text(max_size=200))
def test_any_text_reads_without_raising(text: str) -> None:
    """Whatever the office's mail holds, reading it gives grades and reported lines, never an error."""
    grades, failed = parse_grades(text)
    assert all(0 <= g.score <= 3 and g.deduct >= 0 for g in grades)
    assert all(f.reason for f in failed)


def test_grading_a_month_already_announced_says_how_to_correct_its_notice(bureau: Bureau) -> None:
    """June's notice went out on 1 July; grading a June answer afterwards changes June's scores,
    so the reply says how to send the correction. Before the notice, it says nothing of the kind."""
    first, second = answered(bureau)
    _, before = handle(bureau, f"#{first} 2分", sha="07" * 32)
    assert "通报已经发出" not in before
    with session(bureau.engine) as s:
        s.add(Outbox(key="notice|2025-06|office@pjyjj.example.cn", kind="notice", recipient="office@pjyjj.example.cn",
                     message_id="<n1@pjyjj>", subject="通报", raw=b"", created_at=NOW))  # fmt: skip
    _, after = handle(bureau, f"#{second} 3分\n#{first} 2分", sha="08" * 32)
    assert (
        "注意：2025年6月的通报已经发出，本次评分改变了该月得分；"
        "如需更正，请运行 xinbao notice monthly --month 2025-06 --correct --send。"
    ) in after
    _, unchanged = handle(bureau, f"#{first} 2分", sha="09" * 32)
    assert "通报已经发出" not in unchanged
