"""Reading submission mail: Chinese headers and file names, bodies, attachments, automatic mail."""

from __future__ import annotations

import base64
import io
import zipfile
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.message import Envelope, read_message
from parsers.types import Code, Limits

LIMITS = Limits()
CORPUS = Path("/work/shared/corpus/real")


def gbk_word(text: str, label: str = "GBK") -> str:
    """An RFC 2047 B word holding GBK bytes, labelled as the client labels it."""
    return f"=?{label}?B?{base64.b64encode(text.encode('gbk')).decode()}?="


def eml(*headers: str | bytes, body: bytes = b"") -> bytes:
    """A message from header lines (str, or raw bytes for 8-bit headers) and a body, CRLF-joined."""
    lines = [h if isinstance(h, bytes) else h.encode() for h in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def multipart(*parts: bytes, boundary: str = "----=_Part_1") -> tuple[str, bytes]:
    """The Content-Type header and body of a multipart/mixed holding the given parts."""
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + p + b"\r\n" for p in parts)
    return f'Content-Type: multipart/mixed; boundary="{boundary}"', body + f"--{boundary}--\r\n".encode()


def part(*headers: str | bytes, body: bytes) -> bytes:
    """One MIME part: header lines, blank line, body."""
    return eml(*headers, body=body)


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def make_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


DRAFT_ZIP = make_zip({"稿件/关于开展汛期安全检查的信息.docx": b"draft", "稿件/照片1.jpg": b"\xff\xd8\xff"})


def attachment(name_params: str, data: bytes, ctype: str = "application/octet-stream") -> bytes:
    """A base64 attachment part whose name parameters are given verbatim (any client's style)."""
    return part(
        f"Content-Type: {ctype}",
        "Content-Transfer-Encoding: base64",
        f"Content-Disposition: attachment; {name_params}",
        body=b64(data),
    )


def text(content: str, charset: str = "gbk", subtype: str = "plain") -> bytes:
    return part(
        f"Content-Type: text/{subtype}; charset={charset}",
        "Content-Transfer-Encoding: base64",
        body=b64(content.encode(charset)),
    )


def test_163_publicist_sends_a_gbk_named_zip() -> None:
    """A county publicist on 163 (Coremail): GBK words in From, Subject and the quoted file name."""
    ctype, body = multipart(
        text("请审阅附件稿件。"),
        attachment(
            f'filename="{gbk_word("危化科稿件.zip", "GB2312")}"', DRAFT_ZIP, "application/x-zip-compressed"
        ),
    )
    env = read_message(
        eml(
            f"From: {gbk_word('王强')} <WangQiang.WH@163.com>",
            f"Subject: {gbk_word('关于开展汛期安全检查的信息')}",
            "Date: Fri, 20 Jun 2025 09:30:00 +0800",
            "Message-ID: <5D018D32.5EA504.00312@m12-18.163.com>",
            "MIME-Version: 1.0",
            ctype,
            body=body,
        ),
        limits=LIMITS,
    )
    assert (env.from_name, env.from_addr) == ("王强", "wangqiang.wh@163.com")
    assert env.subject == "关于开展汛期安全检查的信息"
    assert env.date == "2025-06-20T09:30:00+08:00"
    assert env.message_id == "<5D018D32.5EA504.00312@m12-18.163.com>"
    assert env.body_text == "请审阅附件稿件。"
    assert [(a.path, a.data) for a in env.attachments] == [("危化科稿件.zip", DRAFT_ZIP)]
    assert env.auto_reply is False
    assert env.problems == ()


def test_foxmail_raw_8bit_gbk_names_and_sender() -> None:
    """Foxmail writes raw GBK bytes in From and in unquoted name/filename parameters."""
    raw_name = "防汛值班表.docx".encode("gbk")
    ctype, body = multipart(
        text("附件为本周值班表", charset="gb2312"),
        part(
            b"Content-Type: application/msword; name=" + raw_name,
            b"Content-Disposition: attachment; filename=" + raw_name,
            b"Content-Transfer-Encoding: base64",
            body=b64(b"PK\x03\x04docx"),
        ),
    )
    env = read_message(
        eml(b"From: " + "应急局办公室".encode("gbk") + b" <office@example.cn>", ctype, body=body),
        limits=LIMITS,
    )
    assert env.from_name == "应急局办公室"
    assert [a.path for a in env.attachments] == ["防汛值班表.docx"]


def test_outlook_rfc2231_name_with_continuations() -> None:
    """Outlook splits a long GBK file name into RFC 2231 sections; they are joined before decoding."""
    raw = "关于全市安全生产大检查工作进展情况的报告.docx".encode("gbk")
    # Sections cut the bytes, here in the middle of a character, as RFC 2231 allows.
    one, two, three = (quote_from_bytes(raw[i : i + 15]) for i in (0, 15, 30))
    params = f"filename*0*=gbk''{one};\r\n filename*1*={two};\r\n filename*2*={three}"
    ctype, body = multipart(text("见附件"), attachment(params, b"PK\x03\x04"))
    env = read_message(eml("From: a@b.cn", ctype, body=body), limits=LIMITS)
    assert [a.path for a in env.attachments] == ["关于全市安全生产大检查工作进展情况的报告.docx"]


def test_subject_with_character_split_across_words() -> None:
    """A multi-byte character cut between two encoded-words of one charset survives."""
    raw = "盘锦市应急管理局".encode("gbk")
    words = [base64.b64encode(raw[:5]).decode(), base64.b64encode(raw[5:]).decode()]
    env = read_message(
        eml("From: x@y.cn", f"Subject: =?gbk?B?{words[0]}?=\r\n =?gbk?B?{words[1]}?="), limits=LIMITS
    )
    assert env.subject == "盘锦市应急管理局"


@pytest.mark.parametrize(
    ("content_type", "payload", "expected"),
    [
        ("text/plain; charset=gb2312", "镕基同志讲话精神".encode("gbk"), "镕基同志讲话精神"),
        ("text/plain; charset=GB2312", "报送成功，谢谢！".encode(), "报送成功，谢谢！"),
        ("text/plain; charset=gbk", "请于周五前报送信息".encode(), "请于周五前报送信息"),
        ("text/plain; charset=big5", "請查收附件稿件".encode("big5"), "請查收附件稿件"),
        ("text/plain; charset=x-unknown", "稿件已发送".encode("gbk"), "稿件已发送"),
        ("text/plain", "稿件已发送".encode(), "稿件已发送"),
        (
            "text/html",
            '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk">'
            "<style>p{color:red}</style></head><body><p>各单位：</p><div>请于周五前报送&nbsp;信息。</div>"
            "<script>x()</script></body></html>".encode("gbk"),
            "各单位：\n\n请于周五前报送 信息。",
        ),
    ],
)
def test_body_text_charsets(content_type: str, payload: bytes, expected: str) -> None:
    """The body reads right under GB labels holding GBK, charset lies, Big5, unknown labels and HTML."""
    env = read_message(
        eml("From: a@b.cn", f"Content-Type: {content_type}", "Content-Transfer-Encoding: 8bit", body=payload),
        limits=LIMITS,
    )
    assert env.body_text == expected


def test_plain_text_preferred_over_html_and_forwarded_text() -> None:
    """In multipart/alternative the text part is the body, not the HTML nor a forwarded message."""
    alternative = (
        b'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n--alt\r\n'
        + text("纯文本正文")
        + b"\r\n--alt\r\n"
        + text("<p>网页正文</p>", subtype="html")
        + b"\r\n--alt--\r\n"
    )
    forwarded = part(
        "Content-Type: message/rfc822", body=eml("From: c@d.cn", "Subject: old", body=b"old text")
    )
    ctype, body = multipart(alternative, forwarded)
    env = read_message(eml("From: a@b.cn", ctype, body=body), limits=LIMITS)
    assert env.body_text == "纯文本正文"


def test_unnamed_archives_are_named_by_their_magic_bytes() -> None:
    """A zip, a docx and a rar sent as nameless application/octet-stream get 附件N names."""
    docx_like = make_zip({"[Content_Types].xml": b"x", "word/document.xml": b"<w/>"})
    ctype, body = multipart(
        text("见附件"),
        *(
            part(
                "Content-Type: application/octet-stream", "Content-Transfer-Encoding: base64", body=b64(data)
            )
            for data in (DRAFT_ZIP, docx_like, b"Rar!\x1a\x07\x01\x00rest")
        ),
    )
    env = read_message(eml("From: a@b.cn", ctype, body=body), limits=LIMITS)
    assert [a.path for a in env.attachments] == ["附件1.zip", "附件2.docx", "附件3.rar"]
    assert env.attachments[0].data == DRAFT_ZIP


def test_inline_named_image_is_an_attachment() -> None:
    """A photo pasted inline but carrying a file name still travels as a file."""
    ctype, body = multipart(
        text("照片见正文"),
        part(
            'Content-Type: image/jpeg; name="现场照片.jpg"',
            "Content-Disposition: inline",
            "Content-ID: <img1>",
            "Content-Transfer-Encoding: base64",
            body=b64(b"\xff\xd8\xffjpeg"),
        ),
    )
    env = read_message(eml("From: a@b.cn", ctype, body=body), limits=LIMITS)
    assert [a.path for a in env.attachments] == ["现场照片.jpg"]


def test_forwarded_message_carries_its_attachments() -> None:
    """A unit leader forwards the publicist's mail: the original's zip comes along, renamed on collision."""
    inner_type, inner_body = multipart(
        text("原邮件"), attachment(f'filename="{gbk_word("稿件.zip")}"', DRAFT_ZIP), boundary="inner"
    )
    original = eml("From: publicist@163.com", "Subject: 稿件", inner_type, body=inner_body)
    ctype, body = multipart(
        text("转发一下"),
        attachment('filename="稿件.zip"', b"PK\x05\x06" + b"\0" * 18),
        part("Content-Type: message/rfc822", "Content-Disposition: attachment", body=original),
    )
    env = read_message(
        eml("From: leader@example.cn", f"Subject: {gbk_word('转发：稿件')}", ctype, body=body), limits=LIMITS
    )
    assert [a.path for a in env.attachments] == ["稿件.zip", "稿件 (2).zip"]
    assert env.attachments[1].data == DRAFT_ZIP
    assert env.body_text == "转发一下"


def test_too_many_parts_stops_the_walk_and_keeps_what_was_read() -> None:
    """A message with more parts than the limit yields the first ones and a limits problem."""
    ctype, body = multipart(
        text("正文"), *(attachment(f'filename="{i}.jpg"', b"\xff\xd8\xff") for i in range(10))
    )
    env = read_message(eml("From: a@b.cn", ctype, body=body), limits=Limits(max_mime_parts=5))
    assert [a.path for a in env.attachments] == ["0.jpg", "1.jpg", "2.jpg"]
    assert [p.code for p in env.problems] == [Code.ARCHIVE_LIMITS_EXCEEDED]
    assert "邮件部件过多" in env.problems[0].message


def test_broken_transfer_encodings_are_decoded_leniently() -> None:
    """Base64 with illegal characters and an unknown transfer encoding neither raise nor lose data."""
    ctype, body = multipart(
        part(
            'Content-Type: application/msword; name="some.doc"',
            "Content-Transfer-Encoding: base64",
            body=b"0M8R4KGx*GuE=\r\nAAAA",
        ),
        part(
            'Content-Type: application/zip; name="raw.zip"',
            "Content-Transfer-Encoding: x-unknown",
            body=b"PK\x03\x04",
        ),
    )
    env = read_message(eml("From: a@b.cn", ctype, body=body), limits=LIMITS)
    assert [(a.path, a.data[:8]) for a in env.attachments] == [
        ("some.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
        ("raw.zip", b"PK\x03\x04"),
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ('filename="../../etc/passwd"', "passwd"),
        ('filename="C:\\Users\\王强\\Desktop\\稿件.docx"', "稿件.docx"),
        ('filename="php://foo"', "foo"),
        ('filename="稿\x01件\x7f.zip"', "稿件.zip"),
        ('filename="report\u202etxt.exe"', "reporttxt.exe"),
        ('filename=".."', "附件1.zip"),
        ('filename="   "', "附件1.zip"),
    ],
)
def test_file_names_are_sanitised(params: str, expected: str) -> None:
    """Directories, control and bidi characters are stripped; a name left empty is made up."""
    ctype, body = multipart(attachment(params, DRAFT_ZIP))
    env = read_message(eml("From: a@b.cn", ctype, body=body), limits=LIMITS)
    assert [a.path for a in env.attachments] == [expected]


@pytest.mark.parametrize(
    ("headers", "automatic"),
    [
        (["From: wangqiang@163.com", "Subject: 稿件"], False),
        (["From: wangqiang@163.com", "Subject: Re: 自动回复的设置问题"], False),
        (["From: wangqiang@163.com", "Auto-Submitted: no"], False),
        (["From: wangqiang@163.com", "Auto-Submitted: auto-replied"], True),
        (["From: wangqiang@163.com", "Auto-Submitted: auto-generated; owner-email=x"], True),
        (["From: wangqiang@163.com", "Precedence: bulk"], True),
        (["From: wangqiang@163.com", "Precedence: junk"], True),
        (["From: wangqiang@163.com", "Precedence: list"], True),
        (["From: wangqiang@163.com", "X-Autoreply: yes"], True),
        (["From: wangqiang@163.com", "X-Autorespond: 1"], True),
        (["From: wangqiang@163.com", "X-Auto-Response-Suppress: All"], False),
        (["Return-Path: <>", "From: wangqiang@163.com"], True),
        (["From: MAILER-DAEMON@163.com"], True),
        (["From: Postmaster <postmaster@example.cn>"], True),
        (["From: a@b.cn", 'Content-Type: multipart/report; report-type=delivery-status; boundary="x"'], True),
        (["From: a@b.cn", f"Subject: {gbk_word('自动回复：我正在休假')}"], True),
        (["From: a@b.cn", "Subject: 自動回覆: 稿件"], True),
        (["From: a@b.cn", "Subject: Auto: 稿件"], True),
        (["From: a@b.cn", "Subject: Automatic reply: 稿件"], True),
        (["From: a@b.cn", "Subject: Out of Office: 稿件"], True),
        (["From: a@b.cn", "Subject: 退信：稿件"], True),
        (["From: a@b.cn", "Subject: Undeliverable: 稿件"], True),
        (["From: a@b.cn", "Subject: Delivery Status Notification (Failure)"], True),
    ],
)
def test_automatic_mail_is_recognised(headers: list[str], automatic: bool) -> None:
    """Vacation replies, bounces and list mail are flagged so the daemon never answers them."""
    assert read_message(eml(*headers, body=b"x"), limits=LIMITS).auto_reply is automatic


@pytest.mark.parametrize(
    ("date", "iso"),
    [
        ("Fri, 20 Jun 2025 09:30:00 +0800", "2025-06-20T09:30:00+08:00"),
        ("20 Jun 2025 01:30:00 GMT", "2025-06-20T01:30:00+00:00"),
        ("Fri, 20 Jun 2025 01:30:00 -0000", "2025-06-20T01:30:00+00:00"),
        ("2025年6月20日", ""),
        ("", ""),
    ],
)
def test_dates(date: str, iso: str) -> None:
    """The Date header becomes ISO 8601 with its offset; what cannot be read becomes ""."""
    assert read_message(eml("From: a@b.cn", f"Date: {date}"), limits=LIMITS).date == iso


def test_thread_and_reply_headers() -> None:
    """Message-ID, In-Reply-To, References and Reply-To come out as the daemon threads replies."""
    env = read_message(
        eml(
            "From: a@b.cn",
            "Message-ID: bare-id@b.cn",
            "In-Reply-To: <receipt-1@xinbao> (our receipt)",
            "References: <n1@xinbao>\r\n <receipt-1@xinbao> <n1@xinbao>",
            f"Reply-To: {gbk_word('办公室')} <Office@Example.CN>",
        ),
        limits=LIMITS,
    )
    assert env.message_id == "<bare-id@b.cn>"
    assert env.in_reply_to == "<receipt-1@xinbao>"
    assert env.references == ("<n1@xinbao>", "<receipt-1@xinbao>")
    assert env.reply_to == "office@example.cn"


@pytest.mark.parametrize(
    "raw", [b"", b"just a line of text", b"\x00\xff\xfe garbage \r\n\r\n", b"From:\r\n\r\n"]
)
def test_mail_without_headers_still_yields_an_envelope(raw: bytes) -> None:
    """Nothing a mailbox can hold makes the reader raise."""
    assert isinstance(read_message(raw, limits=LIMITS), Envelope)


def test_absurd_nesting_does_not_raise() -> None:
    """Thousands of nested multiparts (deeper than the stdlib parser recurses) keep the headers."""
    inner = b"Content-Type: text/plain\r\n\r\nhello\r\n"
    for i in range(3000):
        inner = b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n%s\r\n--b%d--\r\n" % (
            i,
            i,
            inner,
            i,
        )
    env = read_message(b"From: a@b.cn\r\nSubject: deep\r\n" + inner, limits=LIMITS)
    assert env.subject == "deep"
    assert env.problems


CORPUS_FILES = sorted([*CORPUS.glob("eml/*.eml"), *CORPUS.glob("hostile/*.eml")])


@pytest.mark.skipif(not CORPUS_FILES, reason="shared corpus not present")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_corpus_message_reads_without_error(path: Path) -> None:
    """Every real message of the corpus yields an Envelope whose text is safe to store as UTF-8."""
    env = read_message(path.read_bytes(), limits=LIMITS)
    for value in (
        env.subject,
        env.from_name,
        env.from_addr,
        env.body_text,
        *(a.path for a in env.attachments),
    ):
        value.encode("utf-8")
    assert all(a.path and "/" not in a.path and "\\" not in a.path for a in env.attachments)


def corpus(name: str) -> Envelope:
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"corpus file {name} not present")
    return read_message(path.read_bytes(), limits=LIMITS)


def test_corpus_163_gb2312_attachment_name() -> None:
    """The real 163 Coremail message: GB2312 word in the quoted file name and in From."""
    env = corpus("eml/osst__163_coremail_gb2312_attachment_name.eml")
    assert [a.path for a in env.attachments] == ["翟于运.gif"]
    assert (env.from_name, env.from_addr) == ("河南中奥毯业销售部", "minjgyct@163.com")


def test_corpus_gbk_bytes_under_gb2312_labels() -> None:
    """Subjects and names labelled gb2312 holding GBK-only characters decode fully."""
    spam = corpus("eml/mailparser__mail_test_9.eml")
    assert spam.subject.startswith("我把镜头拉近些")
    assert "\ufffd" not in spam.subject
    kopano = corpus("eml/kopano__gb2312_18030.eml")
    assert kopano.from_name == "梁祐晟"
    assert kopano.subject == "讀取: ??排??生?a"


def test_corpus_charset_lie_and_raw_headers() -> None:
    """A UTF-8 body under gb2312, raw GB2312 and Big5 headers, a raw UTF-8 subject over a GB body."""
    assert corpus("eml/mailparser__mail_test_12.eml").body_text.startswith("你好！我公司")
    qq = corpus("eml/flanker__charset-gb2312.eml")
    assert (qq.from_name, qq.subject) == ("腾讯企业邮箱", "提示：您的企业成员暂时无法登录邮件客户端")
    big5 = corpus("eml/kopano__big5.eml")
    assert (big5.from_name, big5.subject) == ("養樂多", "養樂多線上訂購")
    mixed = corpus("eml/osst__raw_utf8_subject_gb2312_body.eml")
    assert (mixed.from_name, mixed.subject) == ("林先生", "[SPAM] 普通3%专用6%")
    assert "普通3%专用6%" in mixed.body_text


def test_corpus_file_names() -> None:
    """Raw UTF-8, RFC 2231 and traversal names from other projects' test suites."""
    assert [a.path for a in corpus("eml/enmime__mime-bad-8bit-filename.eml").attachments] == ["管理.doc"]
    assert [a.path for a in corpus("eml/protonbridge__bad_2231_filename.eml").attachments] == ["😁😂.txt"]
    hostile = corpus("hostile/webklex__issue-414_traversal_attachment_names.eml")
    assert [a.path for a in hostile.attachments] == ["MyFile.txt", "foo"]
    outlook = corpus("eml/hunnysoft__m0024_outlook_doc_attachment.eml")
    assert [(a.path, a.data[:4]) for a in outlook.attachments] == [
        ("Biodiversite de semaine en semaine.doc", b"\xd0\xcf\x11\xe0")
    ]


def test_corpus_bounces_are_automatic() -> None:
    """A Postfix bounce and a multipart/report delivery failure are automatic mail."""
    assert corpus("eml/osst__bounce_with_gb2312_original.eml").auto_reply
    assert corpus("eml/mailparser__mail_malformed_2.eml").auto_reply


def test_hostile_headers_and_markup_are_read_in_one_pass() -> None:
    """Nested comments in From, a run of quotes in a parameter and unclosed tags neither raise nor stall.

    email.utils.getaddresses recurses per "(", and html.parser and backtracking patterns go
    quadratic on such runs; the reader must still return the rest of the message.
    """
    run = 20000
    ctype, body = multipart(
        text("<a " * run + "<![" * run + "<p>正文</p>", subtype="html"),
        attachment("filename=" + '"' * run, DRAFT_ZIP),
    )
    env = read_message(eml("From: " + "(" * run, "Subject: 稿件", ctype, body=body), limits=LIMITS)
    assert env.subject == "稿件"
    assert [a.data for a in env.attachments] == [DRAFT_ZIP]
    assert env.problems == ()


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(
        st.binary(max_size=60).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
        min_size=4,
        max_size=4,
    )
)
def test_any_header_bytes_are_read_without_the_fallback(values: list[bytes]) -> None:
    """Arbitrary bytes in From, Subject, Content-Type and Content-Disposition never force a header-only reading."""
    names = (b"From: ", b"Subject: ", b"Content-Type: text/plain; ", b"Content-Disposition: attachment; ")
    env = read_message(eml(*(n + v for n, v in zip(names, values, strict=True)), body=b"x"), limits=LIMITS)
    assert Code.UNSUPPORTED_FORMAT not in [p.code for p in env.problems]
