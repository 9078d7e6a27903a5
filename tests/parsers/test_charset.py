"""The charset policy: GB-family labels, Big5, charset lies, RFC 2047 words and RFC 2231 parameters."""

from __future__ import annotations

import base64
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.charset import decode_bytes, decode_header, header_params, lenient_base64, normalise_label


def b_word(text: str, charset: str) -> str:
    """One RFC 2047 B encoded-word, as Coremail and Outlook write them."""
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def escaped(raw: bytes) -> str:
    """A header value as email's parser hands over 8-bit bytes: as surrogate escapes."""
    return raw.decode("ascii", "surrogateescape")


@pytest.mark.parametrize(
    ("data", "label", "expected"),
    [
        # Labelled gb2312 but holding GBK-only 镕 and 祐, as Outlook and Foxmail send them.
        ("朱镕基同志讲话精神学习会".encode("gbk"), "gb2312", "朱镕基同志讲话精神学习会"),
        ("撰稿人：应急局 王祐".encode("gbk"), "GB2312", "撰稿人：应急局 王祐"),
        # A GB18030 four-byte character (𠮷) under a gbk label.
        ("𠮷野家食品安全检查".encode("gb18030"), "gbk", "𠮷野家食品安全检查"),
        ("关于汛期值班的通知".encode("gbk"), "x-gbk", "关于汛期值班的通知"),
        ("关于汛期值班的通知".encode("gbk"), "cp936", "关于汛期值班的通知"),
        ("臺灣防災資訊報送".encode("big5"), "big5", "臺灣防災資訊報送"),
        # Big5 bytes the strict codec refuses but the Microsoft table (cp950) has: the euro sign.
        ("價格€".encode("cp950"), "big5", "價格€"),
        # Charset lie: declared gb2312, really UTF-8 (mail_test_12 in the corpus).
        ("你好！我局已收到贵单位报送的信息。".encode(), "gb2312", "你好！我局已收到贵单位报送的信息。"),
        ("危化科".encode(), "iso-8859-1", "危化科"),
        # Unknown labels: UTF-8, then the GB family.
        ("☺ 报送".encode(), "x-unknown", "☺ 报送"),
        ("安全生产月活动总结".encode("gbk"), "x-unknown", "安全生产月活动总结"),
        ("安全生产月活动总结".encode("gbk"), None, "安全生产月活动总结"),
        ("安全生产月活动总结".encode("gbk"), "", "安全生产月活动总结"),
        ("訊息".encode("big5"), "unknown-8bit", "訊息"),
        ("café".encode("latin-1"), "x-unknown", "café"),
        # A registered codec that is not a charset must not be applied.
        (b"aGk=", "base64", "aGk="),
        (b"\\u4e2d", "unicode_escape", "\\u4e2d"),
        ("报送".encode("utf-16"), "utf-16", "报送"),
        (b"", "gbk", ""),
    ],
)
def test_decode_bytes_reads_what_chinese_clients_send(data: bytes, label: str | None, expected: str) -> None:
    """Each (bytes, declared charset) a bureau mailbox receives decodes to the text the sender typed."""
    assert decode_bytes(data, label) == expected


def test_mixed_utf8_and_gbk_keeps_both_halves() -> None:
    """A subject a list server half re-encoded (UTF-8 with a GBK run spliced in) reads whole."""
    data = "开".encode() + "发票".encode("gbk") + b" 13 " + "报送".encode()
    assert decode_bytes(data, None) == "开发票 13 报送"


def test_truncated_gb_text_keeps_the_readable_part() -> None:
    """A GB2312 body cut mid-character still shows every intact character, then U+FFFD."""
    data = "请于周五前报送".encode("gbk")
    assert decode_bytes(data[:-1], "gb2312") == "请于周五前报\ufffd"


@settings(max_examples=300, deadline=None)
@given(
    data=st.binary(max_size=64),
    label=st.sampled_from([None, "gb2312", "gbk", "big5", "utf-8", "x-unknown", "us-ascii", "utf-16", "hz"]),
)
def test_decode_bytes_never_raises_nor_leaks_surrogates(data: bytes, label: str | None) -> None:
    """Any bytes under any label decode to text that is safe to print and store as UTF-8."""
    text = decode_bytes(data, label)
    text.encode("utf-8")


@pytest.mark.parametrize(
    ("label", "codec"),
    [("GB2312", "gb2312"), ('"gbk"', "gbk"), ("X-GBK", "gbk"), ("base64", None), ("", None), (None, None)],
)
def test_labels_are_normalised(label: str | None, codec: str | None) -> None:
    """Quoted, upper-case and x- labels name a Python codec; non-text codecs are refused."""
    assert normalise_label(label) == codec


def test_multibyte_character_split_across_encoded_words() -> None:
    """Adjacent words of one charset are joined as bytes, so a character cut in two survives."""
    raw = "防汛抗旱".encode("gbk")
    first = base64.b64encode(raw[:3]).decode()
    second = base64.b64encode(raw[3:]).decode()
    assert decode_header(f"=?GBK?B?{first}?=\r\n =?gbk?B?{second}?=") == "防汛抗旱"


def test_encoded_words_gbk_under_gb2312_label() -> None:
    """Coremail labels GBK words gb2312; 镕 is outside GB2312 and must still decode."""
    word = b_word("朱镕基讲话", "gbk").replace("gbk", "gb2312")
    assert decode_header(f"{word} 学习") == "朱镕基讲话 学习"


def test_words_text_and_q_encoding_mix() -> None:
    """Words of different charsets, plain text between them, Q words with underscores."""
    value = "Re: " + b_word("稿件", "gbk") + " =?utf-8?Q?=E6=8A=A5=E9=80=81_ok?= (2)"
    assert decode_header(value) == "Re: 稿件报送 ok (2)"


def test_raw_8bit_header_uses_the_body_charset_hint() -> None:
    """Raw Big5 bytes in a Subject (no RFC 2047) decode with the message's body charset."""
    raw = escaped("養樂多線上訂購".encode("big5"))
    assert decode_header(raw, hint="big5") == "養樂多線上訂購"


def test_raw_8bit_gbk_header_without_hint() -> None:
    """Raw GBK bytes in a header with no charset anywhere are read as the GB family."""
    assert decode_header(escaped("应急管理局办公室".encode("gbk"))) == "应急管理局办公室"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # Coremail (163.com): an RFC 2047 word inside a quoted RFC 2231-less parameter.
        (f'attachment;\r\n\tfilename="{b_word("稿件.zip", "gbk")}"', "稿件.zip"),
        (f'attachment; filename="{b_word("朱镕基.docx", "gbk").replace("gbk", "GB2312")}"', "朱镕基.docx"),
        # Outlook: RFC 2231 with a charset and continuations.
        (
            "attachment; filename*0*=gbk''"
            + quote_from_bytes("汛期值班".encode("gbk"))
            + ";\r\n filename*1*="
            + quote_from_bytes("安排.docx".encode("gbk")),
            "汛期值班安排.docx",
        ),
        ("attachment; filename*=gbk''" + quote_from_bytes("稿件.zip".encode("gbk")), "稿件.zip"),
        # A continuation section that is not percent-encoded.
        ("attachment; filename*0*=utf-8''%E7%A8%BF; filename*1=\"件.zip\"", "稿件.zip"),
        # The language apostrophe missing (proton-bridge sample).
        ("attachment; filename*=utf-8'%E7%A8%BF%E4%BB%B6.txt", "稿件.txt"),
        # Foxmail: raw 8-bit GBK inside the quotes.
        ('attachment; filename="' + escaped("照片1.jpg".encode("gbk")) + '"', "照片1.jpg"),
        ('attachment; filename="a \\"quoted\\" name.doc"', 'a "quoted" name.doc'),
    ],
)
def test_file_name_parameters(value: str, expected: str) -> None:
    """Every way a Chinese client writes a file name comes back as the name the publicist saw."""
    token, params = header_params(value)
    assert token == "attachment"
    assert params["filename"] == expected


def test_params_of_a_content_type() -> None:
    """Content-Type splits into its lower-cased type and parameters, folded lines included."""
    token, params = header_params('Text/Plain;\r\n\tcharset="GB2312"; format=flowed')
    assert token == "text/plain"
    assert params == {"charset": "GB2312", "format": "flowed"}


_NOT_BASE64 = bytes(
    b for b in range(256) if b not in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)


def repaired_base64(data: bytes) -> bytes:
    """The repair lenient_base64 always made: every non-alphabet byte dropped, padding put right."""
    cleaned = data.translate(None, _NOT_BASE64)
    cleaned = cleaned[: len(cleaned) - 1] if len(cleaned) % 4 == 1 else cleaned
    return base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4))


# Base64 text as mail carries it, and what damages it: padding anywhere, line breaks, junk, 8-bit.
BASE64_TEXT = st.lists(
    st.sampled_from(
        [b"QUJD", b"5Y2X", b"+/9z", b"Q", b"QQ", b"=", b"==", b"\r\n", b"\n", b" ", b"*", b"\xff", b"-"]
    )
).map(b"".join)


@settings(max_examples=500)
@given(text=BASE64_TEXT, before=st.binary(max_size=6), after=st.binary(max_size=6))
def test_base64_read_in_place_decodes_as_the_repair_does(text: bytes, before: bytes, after: bytes) -> None:
    """A base64 body read where it lies in the message (binascii straight on the span) gives the
    bytes the lenient repair gives, whether the text is clean, unpadded, padded early or dirty."""
    data = before + text + after
    assert lenient_base64(data, len(before), len(before) + len(text)) == repaired_base64(text)
    assert lenient_base64(text) == repaired_base64(text)


@settings(max_examples=200)
@given(
    photo=st.binary(min_size=1000, max_size=6000),
    crlf=st.booleans(),
    damage=st.lists(st.tuples(st.integers(min_value=0), st.sampled_from([b"*", b"\xff", b" ", b"-", b"\r"]))),
)
def test_a_photos_base64_decodes_as_the_repair_does(
    photo: bytes, crlf: bool, damage: list[tuple[int, bytes]]
) -> None:
    """Kilobytes of a photo's base64 in 76-column lines, some with stray bytes a client let in:
    decoded in place (long enough for the SIMD decoder's blocks), it is the lenient repair."""
    text = bytearray(base64.encodebytes(photo).replace(b"\n", b"\r\n" if crlf else b"\n"))
    for position, junk in damage:
        text[position % len(text) : position % len(text)] = junk
    data = b"--b\r\n\r\n" + bytes(text) + b"--b--"
    assert lenient_base64(data, 7, 7 + len(text)) == repaired_base64(bytes(text))
    if not damage:
        assert lenient_base64(bytes(text)) == photo
