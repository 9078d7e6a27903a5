"""Filing a draft under a column: 【栏目名】 in the subject, or a “栏目：” line in the draft."""

from __future__ import annotations

from daemon.columns_io import column_line, file_under
from outbox.receipt import ReceiptContext, ReceiptDraft, render_receipt
from parsers.types import Code
from tests.scoring.builders import PANJIN, at

COLUMNS = PANJIN.versions[0].default.columns


def test_a_subject_tag_files_the_draft() -> None:
    """【动态要闻】 in the subject: the draft is a 动态要闻 item; 【约稿】 is not a column and files nothing."""
    assert file_under(COLUMNS, subject="【动态要闻】危化科开展检查", body=()) == ("动态要闻", None)
    assert file_under(COLUMNS, subject="【约稿】汛期安全", body=()) == (None, None)


def test_the_line_in_the_draft_wins_and_may_use_the_label() -> None:
    """“栏目：部门文件” in the draft files it there whatever the subject says; the label works too."""
    body = ("6月10日，市安委会印发……", "栏目：《部门文件》")
    assert column_line(body) == "部门文件"
    assert file_under(COLUMNS, subject="【动态要闻】", body=body) == ("部门文件", None)
    assert file_under(COLUMNS, subject="", body=("栏目:“放管服”改革",)) == ("放管服改革", None)


def test_an_unknown_column_is_rejected_with_the_valid_ones() -> None:
    """“栏目：工作动态” names no column: a blocking problem listing every column."""
    name, problem = file_under(COLUMNS, subject="", body=("栏目：工作动态",), source="a.docx")
    assert name is None
    assert problem is not None
    assert problem.code == Code.UNKNOWN_COLUMN
    assert problem.blocking
    assert problem.message.startswith("栏目“工作动态”不存在（可选栏目：新闻时事、")
    assert "动态要闻" in problem.message


def test_the_receipt_names_the_column() -> None:
    """The receipt shows 栏目：动态要闻 under the draft."""
    draft = ReceiptDraft(
        1, "危化科开展检查", [("危化科", "王强")], "刘洋", "陈静", 2, "accepted", column="动态要闻"
    )
    ctx = ReceiptContext(
        unit="危化科", sender_name="王强", received_at=at("2025-06-03"), drafts=[draft], week_label="第23周",
        week_count=1, week_quota=1, month_count=1, month_quota=4, message_problems=[], office_name="办公室",
    )  # fmt: skip
    rendered = render_receipt(ctx, today=at("2025-06-03"))
    assert "栏目：动态要闻" in rendered.text
    assert "动态要闻" in rendered.html
