"""Receipts and rejections as the publicist reads them, and the other mail templates."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage

import jinja2
import pytest

from outbox.compose import compose
from outbox.receipt import ReceiptContext, ReceiptDraft, mail_kind, render_receipt
from outbox.render import Rendered, cn_ordinal, render
from outbox.table import raw_bytes
from parsers.types import CATALOGUE, Code

CST = timezone(timedelta(hours=8))
TODAY = datetime(2025, 6, 20, 9, 31, tzinfo=CST)
OFFICE = "盘锦市应急管理局办公室"

ACCEPTED = ReceiptDraft(
    number=128,
    title="危化科开展汛期危险化学品企业安全专项检查",
    authors=[("危化科", "王强"), ("大洼区应急管理局", "李娜")],
    first_reviewer="刘洋",
    second_reviewer="陈静",
    images=3,
    status="accepted",
)
MISSING_REVIEWER = ReceiptDraft(
    number=None,
    title="我局召开防汛工作部署会",
    authors=[("危化科", "王强")],
    first_reviewer="刘洋",
    second_reviewer=None,
    images=0,
    status="rejected",
    problems=[("稿件《我局召开防汛工作部署会》缺少复审人", CATALOGUE[Code.MISSING_SECOND_REVIEWER].fix)],
)


def _ctx(*drafts: ReceiptDraft, **overrides: object) -> ReceiptContext:
    ctx = ReceiptContext(
        unit="危化科",
        sender_name="王强",
        received_at=datetime(2025, 6, 20, 1, 30, tzinfo=UTC),
        drafts=list(drafts),
        week_label="第25周",
        week_count=1,
        week_quota=1,
        month_count=3,
        month_quota=4,
        message_problems=[],
        office_name=OFFICE,
    )
    return dataclasses.replace(ctx, **overrides)  # type: ignore[arg-type]


def test_receipt_lists_the_draft_and_the_quotas() -> None:
    """The department's publicist sends one good draft: a receipt with its number, people and counts."""
    ctx = _ctx(ACCEPTED)
    assert mail_kind(ctx) == "receipt"
    r = render_receipt(ctx, today=TODAY)
    assert r.subject == "【已收到】《危化科开展汛期危险化学品企业安全专项检查》——信息报送回执"
    for line in (
        "王强同志：",
        "局办公室已于2025年6月20日 09:30收到",  # 01:30 UTC is 09:30 in Panjin
        "编号：128",
        "标题：《危化科开展汛期危险化学品企业安全专项检查》",
        "撰稿人：王强（危化科）、李娜（大洼区应急管理局）",
        "初审人：刘洋",
        "复审人：陈静",
        "照片：3 张",
        "本周（第25周）已报送 1 篇（要求不少于 1 篇）",
        "本月已报送 3 篇（要求不少于 4 篇）",
        "本邮件由系统自动发送，请勿直接回复；如有疑问请联系局办公室。",
        OFFICE,
        "2025年6月20日",
    ):
        assert line in r.text, line
    assert "修改方法" not in r.text
    assert "尚差" not in r.text
    assert r.html is not None
    assert "撰稿人" in r.html
    assert "王强（危化科）" in r.html


def test_rejection_names_each_problem_with_its_fix() -> None:
    """A draft without a second reviewer is turned back with the fix and a way to resubmit."""
    ctx = _ctx(MISSING_REVIEWER, week_count=0)
    assert mail_kind(ctx) == "rejection"
    r = render_receipt(ctx, today=TODAY)
    assert r.subject == "【需修改】《我局召开防汛工作部署会》——信息报送退稿通知"
    assert (
        "问题1：稿件《我局召开防汛工作部署会》缺少复审人\n　　修改方法：请在文末写明“复审人：姓名”" in r.text
    )
    assert "复审人：（未填写）" in r.text
    assert "修改后可直接回复本邮件重新报送（请附上修改后的压缩包）" in r.text
    assert "请勿直接回复" not in r.text
    assert "本周尚差 1 篇" in r.text
    assert r.html is not None
    assert "修改方法：请在文末写明“复审人：姓名”" in r.html


def test_mixed_message_gets_a_receipt_that_lists_what_to_fix() -> None:
    """Two drafts in one zip, one good and one without a reviewer: one receipt that covers both."""
    ctx = _ctx(ACCEPTED, MISSING_REVIEWER)
    assert mail_kind(ctx) == "receipt"
    r = render_receipt(ctx, today=TODAY)
    assert (
        r.subject == "【已收到】《危化科开展汛期危险化学品企业安全专项检查》（另有1篇需修改）——信息报送回执"
    )
    assert r.text.index("一、编号：128") < r.text.index("二、编号：（未登记）")
    assert "修改方法：请在文末写明“复审人：姓名”" in r.text
    assert "修改后可直接回复本邮件重新报送" in r.text


def test_message_without_drafts_is_rejected_with_the_mail_problem() -> None:
    """A mail that forgot its attachment is rejected, naming the mail's own subject."""
    problem = CATALOGUE[Code.NO_ATTACHMENT]
    ctx = _ctx(message_problems=[(problem.template, problem.fix)], subject="6月20日信息报送")
    r = render_receipt(ctx, today=TODAY)
    assert r.subject == "【需修改】来稿“6月20日信息报送”——信息报送退稿通知"
    assert "邮件没有附件" in r.text
    assert "修改方法：" + problem.fix in r.text
    assert "未能登记任何稿件" in r.text


def test_duplicate_only_is_acknowledged_not_rejected() -> None:
    """Sending the same draft again is not an error to fix: it is receipted as already on record."""
    dup = dataclasses.replace(ACCEPTED, status="duplicate")
    ctx = _ctx(dup)
    assert mail_kind(ctx) == "receipt"
    assert "此前已报送，本次不重复计数" in render_receipt(ctx, today=TODAY).text


def test_html_escapes_what_publicists_type() -> None:
    """A title with angle brackets is shown, not interpreted, in the HTML part."""
    odd = dataclasses.replace(ACCEPTED, title="<b>应急</b> & 安全")
    r = render_receipt(_ctx(odd), today=TODAY)
    assert r.html is not None
    assert "&lt;b&gt;应急&lt;/b&gt; &amp; 安全" in r.html
    assert "《<b>应急</b> & 安全》" in r.text


def _as_sent(rendered: Rendered, *, to: str, key: str, in_reply_to: str | None = None) -> EmailMessage:
    """A rendered reply composed as daemon.replies.queue_reply sends it: from the office, automatic."""
    return compose(
        sender="pjyjjbgs@163.com",
        sender_name=OFFICE,
        to=to,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        key=key,
        domain="163.com",
        in_reply_to=in_reply_to,
        auto_reply=True,
        date=TODAY,
    )


def test_receipt_mail_is_an_auto_reply_in_the_thread() -> None:
    """The receipt goes out from the office's name, threaded, marked auto-replied."""
    msg = _as_sent(
        render_receipt(_ctx(ACCEPTED), today=TODAY),
        to="wangqiang.wh@163.com",
        key="receipt|msg-42|wangqiang.wh@163.com",
        in_reply_to="<abc@163.com>",
    )
    parsed = message_from_bytes(raw_bytes(msg), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["From"].addresses[0].display_name == OFFICE
    assert parsed["Subject"].startswith("【已收到】《危化科")
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["In-Reply-To"] == "<abc@163.com>"
    body = parsed.get_body(preferencelist=("plain",))
    assert body is not None
    assert "编号：128" in body.get_content()


def test_unknown_sender_reply_is_polite_and_promises_a_check() -> None:
    """Mail from an unregistered QQ address: thanked, told the office will check, nothing counted."""
    rendered = render(
        "publicist/unknown_sender",
        sender="12345678@qq.com",
        subject="报送稿件",
        received_at=datetime(2025, 6, 20, 1, 30, tzinfo=UTC),
        office_name=OFFICE,
        today=TODAY,
    )
    msg = _as_sent(rendered, to="12345678@qq.com", key="unknown_sender|2025-06-20|12345678@qq.com")
    parsed = message_from_bytes(raw_bytes(msg), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == "【已收到】“报送稿件”——发件邮箱待核实"
    body = parsed.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert "12345678@qq.com 尚未登记为本局信息宣传员邮箱" in text
    assert "局办公室将进行核实" in text


def test_office_alert_and_digest() -> None:
    """The office hears of an SMTP problem, and once a day of mail from unregistered addresses."""
    alert = render(
        "office/alert",
        title="SMTP 授权码错误",
        text="发信服务器拒绝登录，回执和通知暂停发送。",
        occurred_at=datetime(2025, 6, 20, 1, 30, tzinfo=UTC),
        details=["待发邮件 3 封"],
        office_name=OFFICE,
        today=TODAY,
    )
    assert alert.subject == "【系统提醒】SMTP 授权码错误"
    assert "2025年6月20日 09:30，发信服务器拒绝登录" in alert.text
    assert "待发邮件 3 封" in alert.text
    item = {
        "sender": "12345678@qq.com",
        "subject": "报送稿件",
        "received_at": datetime(2025, 6, 20, 1, 30, tzinfo=UTC),
        "titles": ["某县开展消防演练"],
        "reason": "",
    }
    digest = render(
        "office/unverified_digest", day=date(2025, 6, 20), items=[item], office_name=OFFICE, today=TODAY
    )
    assert digest.subject == "【待核实】2025年6月20日待核实来稿 1 封"
    assert "12345678@qq.com" in digest.text
    assert "《某县开展消防演练》" in digest.text
    assert digest.html is not None
    assert "<td" in digest.html


def test_missing_context_is_an_error() -> None:
    """A template and the code that fills it cannot drift apart silently."""
    with pytest.raises(jinja2.UndefinedError):
        render("office/alert", title="x", office_name=OFFICE, today=TODAY)


@pytest.mark.parametrize(
    ("n", "word"), [(1, "一"), (9, "九"), (10, "十"), (12, "十二"), (20, "二十"), (25, "二十五")]
)
def test_chinese_ordinals(n: int, word: str) -> None:
    """Drafts are numbered 一、二、… as in a bureau document."""
    assert cn_ordinal(n) == word
