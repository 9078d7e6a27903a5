"""The fast MIME splitter: it splits mail as clients send it, declines what it does not recognise, and
never reads a message differently from the stdlib parser (a differential test on generated mail)."""

from __future__ import annotations

import base64
import quopri
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from daemon.samples import make_docx, make_jpeg, make_submission_email, make_zip
from parsers.message import Envelope, read_message
from parsers.mimesplit import Part, split
from parsers.types import Limits

LIMITS = Limits()
CST = timezone(timedelta(hours=8))


def stdlib_envelope(raw: bytes) -> Envelope:
    """What read_message makes of `raw` through the stdlib parser alone (the splitter declining)."""
    with mock.patch("parsers.message.split", return_value=None):
        return read_message(raw, limits=LIMITS)


def nodes(msg: Message) -> Iterator[Message]:
    yield msg
    if msg.is_multipart():
        for child in msg.get_payload():
            assert isinstance(child, Message)
            yield from nodes(child)


def assert_same_tree(raw: bytes, tree: Part) -> None:
    """The split tree has the stdlib's shape, header fields and leaf payloads."""
    stdlib = BytesParser(policy=compat32).parsebytes(raw)
    fast, slow = list(nodes(tree)), list(nodes(stdlib))
    assert [list(m.raw_items()) for m in fast] == [list(m.raw_items()) for m in slow]
    assert [m.is_multipart() for m in fast] == [m.is_multipart() for m in slow]
    assert tree.get_unixfrom() == stdlib.get_unixfrom()
    for f, s in zip(fast, slow, strict=True):
        if not s.is_multipart():
            assert isinstance(f, Part)
            # The payload as the parser stored it: get_payload() would decode 8-bit bytes first.
            assert f.text() == s._payload


def assert_read_alike(raw: bytes) -> bool:
    """read_message gives the stdlib's Envelope; True when the splitter took the message."""
    tree = split(raw, max_parts=LIMITS.max_mime_parts)
    if tree is not None:
        assert_same_tree(raw, tree)
    assert read_message(raw, limits=LIMITS) == stdlib_envelope(raw)
    return tree is not None


def submission(mailer: str = "163", *, gbk: bool = False, loose: bool = False) -> bytes:
    """A county publicist's message: a zipped draft with a photo, or the two attached loose."""
    docx = make_docx(title="汛期安全检查", paragraphs=["6月19日，开展检查。"], signoff_lines=["撰稿人：王强"])
    files = [("汛期安全检查.docx", docx), ("现场.jpg", make_jpeg(width=40, height=30, seed=3))]
    return make_submission_email(
        sender="wangqiang.wh@163.com",
        sender_name="王强",
        to="pjyjjbgs@163.com",
        subject="应急局信息",
        date=datetime(2025, 6, 20, 9, 30, tzinfo=CST),
        attachments=files if loose else [("应急局信息.zip", make_zip(files))],
        gbk_headers=gbk,
        mailer=mailer,  # type: ignore[arg-type]
    )


def lf(raw: bytes) -> bytes:
    """The message as a Unix tool saves it: LF line ends."""
    return raw.replace(b"\r\n", b"\n")


def forwarded(inner: bytes) -> bytes:
    """A message forwarding `inner` as an attachment (message/rfc822), as Outlook does."""
    return (
        b"From: office@pjyjj.cn\r\nSubject: Fwd\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n'
        b"--outer\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + "转发一份稿件。".encode() + b"\r\n"
        b"--outer\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--outer--\r\n"
    )


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(submission("163"), id="163 webmail, zipped"),
        pytest.param(submission("foxmail", gbk=True), id="Foxmail, GBK headers"),
        pytest.param(submission("thunderbird", loose=True), id="Thunderbird, loose files"),
        pytest.param(lf(submission("163", loose=True)), id="saved with LF line ends"),
        pytest.param(forwarded(submission("163")), id="forwarded as message/rfc822"),
    ],
)
def test_mail_as_clients_send_it_is_split_and_read_as_the_stdlib_reads_it(raw: bytes) -> None:
    """The everyday shapes take the fast path, with the same Envelope the stdlib path gives."""
    assert assert_read_alike(raw)


def mixed(body: bytes, *, boundary: bytes = b"b1", extra: bytes = b"") -> bytes:
    ctype = b'Content-Type: multipart/mixed; boundary="' + boundary + b'"\r\n'
    return b"From: a@b.cn\r\nSubject: x\r\n" + extra + ctype + b"\r\n" + body


TEXT = b"Content-Type: text/plain\r\n\r\nhello\r\n"


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(mixed(b"--b1\r\n" + TEXT), id="no close boundary (truncated mail)"),
        pytest.param(mixed(b"--b1\r\n--b1\r\n" + TEXT + b"--b1--\r\n"), id="consecutive boundary lines"),
        pytest.param(mixed(b"--b1\r\n" + TEXT + b"x\r--b1\r\n" + TEXT + b"--b1--\r\n"), id="boundary line after a bare CR"),
        pytest.param(mixed(b"--b1--\r\n--b1\r\n" + TEXT), id="close boundary before any part"),
        pytest.param(mixed(b"--b1\r\nno colon here\r\n\r\nhello\r\n--b1--\r\n"), id="a header line without colon"),
        pytest.param(mixed(b"--b1\r\nContent-Type: text/plain\r\nhello\r\n--b1--\r\n"), id="no blank line in a part"),
        pytest.param(mixed(b"--b1\r\n" + TEXT + b"--b1--\r\n", extra=b"Content-Transfer-Encoding: base64\r\n"),
                     id="multipart with a transfer encoding"),
        pytest.param(mixed(b"--\xe7\xa8\xbf\r\n" + TEXT + b"--\xe7\xa8\xbf--\r\n", boundary=b"\xe7\xa8\xbf"),
                     id="8-bit boundary"),
        pytest.param(mixed(b"--b1\r\n" + TEXT + b"--b1--\r\n").replace(b"mixed", b"digest"), id="multipart/digest"),
        pytest.param(
            mixed(
                b"--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.163.com\r\n\r\n"
                b"Final-Recipient: rfc822; a@b.cn\r\nStatus: 5.1.1\r\n--b1--\r\n"
            ),
            id="a bounce's delivery status",
        ),
        pytest.param(
            mixed(b'--b1\r\nContent-Type: multipart/alternative; boundary="b2"\r\n\r\n--b2\r\n' + TEXT + b"--b1--\r\n"),
            id="inner multipart ended by the outer boundary",
        ),
        pytest.param(b"From: a@b.cn\r\nSubject: only a header", id="no blank line after the header"),
        pytest.param(
            mixed(b"--abc\r\n def\r\n" + TEXT + b"--abc\r\n def--\r\n", boundary=b"abc\r\n def"),
            id="boundary folded inside its quotes",
        ),
    ],
)  # fmt: skip
def test_mail_the_splitter_does_not_recognise_goes_to_the_stdlib_parser(raw: bytes) -> None:
    """Broken structure is declined, so hostile mail keeps the stdlib's reading of it."""
    assert split(raw, max_parts=LIMITS.max_mime_parts) is None


def test_more_parts_than_the_limit_go_to_the_stdlib_parser() -> None:
    """A message of 600 parts is declined; the stdlib path reports the limit as before."""
    raw = mixed(b"".join(b"--b1\r\n" + TEXT for _ in range(600)) + b"--b1--\r\n")
    assert split(raw, max_parts=LIMITS.max_mime_parts) is None
    assert split(raw, max_parts=1000) is not None


def test_a_boundary_line_ended_by_a_bare_cr_is_read_as_the_stdlib_reads_it() -> None:
    """A lone CR ends a line for the stdlib, a boundary line too: the part after it starts there."""
    assert assert_read_alike(mixed(b"--b1\r\n" + TEXT + b"--b1\r" + TEXT + b"--b1--\r\n"))


def test_a_base64_part_with_a_charset_decodes_its_8bit_bytes_as_the_stdlib_does() -> None:
    """Non-ASCII bytes inside base64 under charset=gbk swallow the next character in the stdlib's
    reading (a GBK pair); the split tree hands such parts to the same code."""
    part = b"Content-Type: text/plain; charset=gbk\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    raw = mixed(b"--b1\r\n" + part + b"\x81QUJD\xfeREVG\r\n--b1--\r\n")
    assert assert_read_alike(raw)


# ------------------------------------------------------------------------------ the differential test


@dataclass(frozen=True)
class Style:
    """How one generated message is written: line ends and boundary-line habits."""

    newline: bytes
    padding: bytes  # white space some clients put after a boundary


BOUNDARY = st.one_of(
    st.text("abcXYZ0123456789'()+_,-./:=? ", min_size=1, max_size=12).map(str.encode),
    st.sampled_from([b"----=_Part_1", b"b", b"b-", b"==", b" lead", b"tab\tin", b"\xe7\xa8\xbf"]),
)
CTYPES = st.sampled_from(
    [
        "text/plain; charset=utf-8",
        "text/plain; charset=gbk",
        "text/plain",
        "text/html; charset=gb2312",
        'application/zip; name="稿件.zip"',
        "application/octet-stream",
        'image/jpeg; name="p.jpg"',
        "text/plain; charset*=utf-8''x",
    ]
)
ENCODINGS = st.sampled_from(["base64", "quoted-printable", "7bit", "8bit", "", "x-unknown"])


@st.composite
def base64_text(draw: st.DrawFn, data: bytes) -> bytes:
    """Base64 as clients write it, sometimes damaged the ways real mail damages it."""
    text = base64.encodebytes(data)
    damage = draw(st.sampled_from(["none", "none", "unpadded", "junk", "pad inside", "cut", "spaces"]))
    if damage == "unpadded":
        text = text.replace(b"=", b"")
    elif damage == "junk":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from([b"*", b"\xff", b"-", b"==", b"!"])) + text[at:]
    elif damage == "pad inside":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + b"=" + text[at:]
    elif damage == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    elif damage == "spaces":
        text = text.replace(b"\n", b" \n")
    return text


@st.composite
def leaf(draw: st.DrawFn) -> list[bytes]:
    """Header lines and body lines of one leaf part."""
    data = draw(st.binary(max_size=120) | st.sampled_from([b"", "稿件正文".encode("gbk"), b"PK\x03\x04zip"]))
    encoding = draw(ENCODINGS)
    if encoding == "base64":
        body = draw(base64_text(data))
    elif encoding == "quoted-printable":
        body = quopri.encodestring(data)
    else:
        body = data
    headers = [f"Content-Type: {draw(CTYPES)}".encode()]
    if encoding:
        headers.append(f"Content-Transfer-Encoding: {encoding}".encode())
    if draw(st.booleans()):
        headers.append(b'Content-Disposition: attachment; filename="\xe7\xa8\xbf.docx"')
    return [*headers, b"", *body.split(b"\n")]


@st.composite
def entity(draw: st.DrawFn, style: Style, depth: int = 0) -> list[bytes]:
    """The lines of a leaf, a multipart or a forwarded message."""
    kind = draw(st.sampled_from(["leaf", "multipart", "message"] if depth < 3 else ["leaf"]))
    if kind == "leaf":
        return draw(leaf())
    if kind == "message":
        inner = draw(entity(style, depth + 1))
        return [b"Content-Type: message/rfc822", b"", b"Subject: inner", *inner]
    boundary = draw(BOUNDARY)
    subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report"]))
    quoted = draw(st.booleans())
    value = b'"' + boundary + b'"' if quoted else boundary
    lines = [b"Content-Type: multipart/" + subtype.encode() + b"; boundary=" + value, b""]
    if draw(st.booleans()):
        lines.append(b"This is a multi-part message in MIME format.")
    for _ in range(draw(st.integers(1, 3))):
        lines.append(b"--" + boundary + draw(st.sampled_from([b"", style.padding])))
        # Now and then a near miss, a doubled boundary line, or an outer part's boundary in this one.
        lines.extend(
            draw(st.sampled_from([[]] * 6 + [[b"--" + boundary + b"x"], [b"--" + boundary], [b"--b"]]))
        )
        lines.extend(draw(entity(style, depth + 1)))
    if draw(st.sampled_from([True] * 7 + [False])):
        lines.append(b"--" + boundary + b"--" + draw(st.sampled_from([b"", style.padding])))
        if draw(st.booleans()):
            lines.extend([b"epilogue", b"--" + boundary])
    return lines


@st.composite
def message(draw: st.DrawFn) -> bytes:
    """A whole generated message; sometimes truncated, or with a line end changed."""
    style = Style(draw(st.sampled_from([b"\r\n", b"\n"])), draw(st.sampled_from([b" ", b"\t", b"  "])))
    lines = [b"From: =?utf-8?b?546L5by6?= <wq@163.com>", b"Subject: x", b"MIME-Version: 1.0"]
    raw = style.newline.join([*lines, *draw(entity(style))])
    damage = draw(st.sampled_from(["none"] * 4 + ["truncated", "line end", "line end at a boundary"]))
    if damage == "truncated":
        return raw[: draw(st.integers(len(raw) // 2, len(raw)))]
    # Line ends: any of them, or those just before and after a line starting with "--".
    ends = [(m.start(), m.end()) for m in re.finditer(rb"\r?\n", raw)]
    if damage == "line end at a boundary":
        ends = [
            (a, b)
            for a, b in ends
            if raw.startswith(b"--", b)
            or raw.rfind(b"\n", 0, a) + 1 == raw.find(b"--", raw.rfind(b"\n", 0, a) + 1)
        ]
    if damage != "none" and ends:
        start, end = draw(st.sampled_from(ends))
        raw = raw[:start] + draw(st.sampled_from([b"\r", b"\r\n", b"\n", b"\n\n", b""])) + raw[end:]
    return raw


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=message())
def test_the_fast_path_declines_or_reads_exactly_what_the_stdlib_reads(raw: bytes) -> None:
    """Generated multipart mail (random boundaries, nesting, CRLF/LF, base64/QP/7bit, damage,
    truncation): the split tree and the Envelope are the stdlib's, or the splitter declines."""
    event("split" if assert_read_alike(raw) else "declined")
