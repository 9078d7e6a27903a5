"""Composing outgoing mail: headers a 163 or Outlook reader relies on, Chinese names that survive."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from typing import Any

from outbox.compose import Attachment, compose, message_id_for
from outbox.table import raw_bytes

CST = timezone(timedelta(hours=8))
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _notice(**overrides: Any) -> EmailMessage:
    args: dict[str, Any] = {
        "sender": "pjyjjbgs@163.com",
        "sender_name": "盘锦市应急管理局办公室",
        "to": "wangqiang.wh@163.com",
        "subject": "【已收到】《危化科开展汛期危险化学品企业安全专项检查》——信息报送回执",
        "text": "王强同志：\n\n　　局办公室已收到您报送的信息稿件。\n",
        "html": "<p>王强同志：</p><p>局办公室已收到您报送的信息稿件。</p>",
        "key": "receipt|msg-42|wangqiang.wh@163.com",
        "domain": "163.com",
        "date": datetime(2025, 6, 20, 9, 30, tzinfo=CST),
    }
    args.update(overrides)
    return compose(**args)


def _wire(msg: EmailMessage) -> EmailMessage:
    """What the recipient's client parses: the bytes on the wire, read back."""
    parsed = message_from_bytes(raw_bytes(msg), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_message_id_is_derived_from_the_key() -> None:
    """A receipt rendered again after a crash carries the same Message-ID, so clients show it once."""
    first, again = _notice(), _notice()
    assert (
        first["Message-ID"]
        == again["Message-ID"]
        == message_id_for("receipt|msg-42|wangqiang.wh@163.com", "163.com")
    )
    assert raw_bytes(first) == raw_bytes(again)
    other = _notice(key="receipt|msg-43|wangqiang.wh@163.com")
    assert other["Message-ID"] != first["Message-ID"]
    local, _, domain = first["Message-ID"].strip("<>").partition("@")
    assert len(local) == 32
    assert domain == "163.com"


def test_chinese_sender_name_is_encoded_and_reads_back() -> None:
    """The From line is RFC 2047 encoded on the wire and shows the office's Chinese name."""
    msg = _notice()
    head = raw_bytes(msg).split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert b"=?utf-8?" in head
    sender = _wire(msg)["From"]
    assert sender.addresses[0].display_name == "盘锦市应急管理局办公室"
    assert sender.addresses[0].addr_spec == "pjyjjbgs@163.com"
    assert _wire(msg)["Subject"] == "【已收到】《危化科开展汛期危险化学品企业安全专项检查》——信息报送回执"


def test_receipt_is_marked_as_an_automatic_reply_in_the_thread() -> None:
    """A receipt answers the publicist's mail in its thread and tells robots not to answer back."""
    msg = _wire(_notice(in_reply_to="<20250620093000.1234@163.com>", references=["<earlier@163.com>"]))
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["In-Reply-To"] == "<20250620093000.1234@163.com>"
    assert msg["References"].split() == ["<earlier@163.com>", "<20250620093000.1234@163.com>"]
    assert parsedate_to_datetime(msg["Date"]) == datetime(2025, 6, 20, 9, 30, tzinfo=CST)


def test_reminder_is_auto_generated_and_not_threaded() -> None:
    """A weekly reminder starts its own thread and says it was generated, not replied."""
    msg = _wire(_notice(auto_reply=False, key="weekly_shortfall|2025-W25|wangqiang.wh@163.com"))
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Auto-Response-Suppress"] is None
    assert msg["In-Reply-To"] is None
    assert msg["References"] is None


def test_text_and_html_alternatives_decode_to_the_chinese_text() -> None:
    """Both alternatives are UTF-8 and survive transport encoding; the text part comes first."""
    msg = _wire(_notice())
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = msg.iter_parts()
    assert (plain.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert plain.get_content() == "王强同志：\n\n　　局办公室已收到您报送的信息稿件。\n"
    assert "局办公室已收到您报送的信息稿件" in html.get_content()
    assert all(p["Content-Transfer-Encoding"] == "base64" for p in (plain, html))


def test_plain_text_only_when_there_is_no_html() -> None:
    """Without an HTML body the message is a single text/plain part."""
    msg = _wire(_notice(html=None, text="ASCII only alert\n"))
    assert msg.get_content_type() == "text/plain"
    # A 7bit body keeps the wire's CRLF when parsed; clients show it as one line end.
    assert msg.get_content().replace("\r\n", "\n") == "ASCII only alert\n"


def test_chinese_attachment_name_round_trips() -> None:
    """The monthly notice's long Chinese file name comes back whole from Python's parser."""
    name = "盘锦市应急管理局关于2025年6月份政务信息报送情况的通报（第六期）.docx"
    content = b"PK\x03\x04" + bytes(range(256)) * 8
    msg = _notice(
        auto_reply=False, attachments=[Attachment(name, content, "application", DOCX.split("/")[1])]
    )
    wire = raw_bytes(msg)
    assert wire.isascii()
    # RFC 2231 on the wire; continuations because the name is longer than a header line.
    assert b"filename*0*=utf-8''" in wire
    parsed = BytesParser(policy=policy.default).parsebytes(wire)
    (attachment,) = parsed.iter_attachments()
    assert attachment.get_filename() == name
    assert attachment.get_content_type() == DOCX
    assert attachment.get_content() == content
    # Python's folder once turned a long MIME type into an encoded word next to a Chinese
    # parameter; the header must stay a plain type.
    assert b"Content-Type: " + DOCX.encode() in wire
    # The compat32 API, which older scripts at the office use, decodes the name as well.
    legacy = message_from_bytes(wire)
    part = next(p for p in legacy.walk() if p.get_content_maintype() == "application")
    assert part.get_filename() == name


def test_boundaries_are_deterministic_and_do_not_collide() -> None:
    """Rendering the same notice twice gives identical bytes, attachments included."""
    att = [Attachment("附件4 信息宣传员登记表.xlsx", b"\x00\x01" * 500)]
    one = raw_bytes(_notice(attachments=att))
    two = raw_bytes(_notice(attachments=att))
    assert one == two
    assert _wire(_notice(attachments=att)).get_content_type() == "multipart/mixed"


def test_receipts_share_their_header_classes() -> None:
    """Two hundred receipts of a Monday backlog make each kind of header once, not once a header:
    the stdlib's registry would build a new class every time (a fifth of composing a receipt)."""
    first, second = _notice(key="receipt|1"), _notice(key="receipt|2")
    for name in ("From", "Subject", "Content-Type", "Message-ID"):
        assert type(first[name]) is type(second[name]), name
    assert type(first["Subject"]) is not type(first["From"])
    assert str(second["From"]) == "盘锦市应急管理局办公室 <pjyjjbgs@163.com>"
