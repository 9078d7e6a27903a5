"""The hostile corpus: mail built to hurt the parser, each message with the one outcome it must get.

Every case goes through the full parse as the daemon runs it (`parse_message(raw, limits=Limits(),
convert=None, rar=True)`): it must return, with exactly the problems, drafts and auto-reply flag
listed, text that is safe to store and to put back into a reply, and a bounded peak of Python
memory (tracemalloc; lxml's own C heap is not traced, which is why the entity cases are refused
before lxml expands anything). The last tests run a few of them through the resource guard.
"""

from __future__ import annotations

import base64
import json
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from daemon.guard import Guard
from fuzz.fuzz_parse import check_output
from parsers.submission import parse_message
from parsers.types import Code, Limits, ParsedMessage
from tests.hostile import builders as b

LIMITS = Limits()
NA, ND, UA, LX, UP, UF, UD = (
    Code.NO_ATTACHMENT,
    Code.NO_DRAFT,
    Code.UNREADABLE_ARCHIVE,
    Code.ARCHIVE_LIMITS_EXCEEDED,
    Code.UNSAFE_PATH,
    Code.UNSUPPORTED_FORMAT,
    Code.UNREADABLE_DRAFT,
)
MIB = 1024 * 1024
PASSWD = Path("/etc/passwd")


@dataclass(frozen=True)
class Case:
    """One hostile message (None when it comes from the shared corpus and that is absent) and its outcome."""

    name: str
    build: Callable[[], bytes | None]
    codes: tuple[Code, ...] = ()
    drafts: int = 0
    auto_reply: bool = False
    # Further outcome fields: ParsedMessage attribute → value; "images" and "sources" are per draft.
    fields: tuple[tuple[str, object], ...] = ()
    peak_mb: float = 300
    # The file of the shared real-world corpus the case is made of, if any.
    corpus: str = ""


def real(name: str, path: str, *codes: Code, attach: bool = False, **outcome: Any) -> Case:
    """A case made of a corpus file: the message itself, or (`attach`) a submission carrying it."""

    def build() -> bytes | None:
        data = b.corpus(path)
        if data is None or not attach:
            return data
        return b.submission((path.rsplit("__", 1)[-1], data))

    return Case(name, build, codes, corpus=path, **outcome)


def _header(line: str | bytes, *, drop: bytes = b"") -> bytes:
    """The usual submission with one header line added in front (replacing the `drop` header)."""
    raw = line.encode() if isinstance(line, str) else line
    return b.with_headers(b.submission(), raw, replace=[drop] if drop else [])


def _mailsploit() -> bytes:
    # The 2017 mailsploit shape: an address made of encoded-words, hiding a NUL and a second domain.
    hidden = b.encoded_word(b"office@pjyjj.cn\x00")
    return _header(f"From: {hidden}=?utf-8?Q?@evil.com?=", drop=b"From")


def _charset_label(label: str) -> bytes:
    word = f"=?{label}?b?{base64.b64encode('稿件'.encode('gbk')).decode()}?="
    body = b.eml(
        f"Content-Type: text/plain; charset={label}",
        "Content-Transfer-Encoding: 8bit",
        body="请审阅".encode("gbk"),
    )
    return b.mixed(body, b.zip_part()).replace(
        b"Subject: \xe5\x8d\xb1", b"Subject: " + word.encode() + b" \xe5\x8d\xb1"
    )


def _utf7() -> bytes:
    # UTF-7 spells NUL, "/" and "<" in letters: "+AAA-", "+AC8-", "+ADw-".
    part = b.eml(
        'Content-Type: application/zip; name="=?utf-7?q?+ej9O9g-+AAA-+AC8-..+AC8-x.zip?="',
        "Content-Transfer-Encoding: base64",
        body=b.b64(b.package()),
    )
    return b.mixed(part, after=["Subject: =?utf-7?q?+ej9O9g-+AAA-+ADw-script+AD4-?="]).replace(
        "Subject: 危化科信息\r\n".encode(), b"", 1
    )


def _zlib_charset() -> bytes:
    # "zlib" is a registered codec (bytes to bytes): a charset label must never decompress.
    bomb = zlib.compress(bytes(64 * MIB), 9)
    body = b.eml(
        "Content-Type: text/plain; charset=zlib", "Content-Transfer-Encoding: base64", body=b.b64(bomb)
    )
    return b.mixed(body, b.zip_part())


def _parts(count: int) -> bytes:
    return b.mixed(b.zip_part(), *[b.text_part("x")] * count)


def _names() -> bytes:
    names = [
        "../../Windows/system32/危化企业专项检查.docx",
        "C:\\Users\\王强\\现场.jpg",
        "照片\u202egpj.exe",
        "图\x00\x1b[31m2.jpg",
    ]
    datas = [b.draft(), b.photo(2), b.photo(3), b.photo(4)]
    return b.mixed(b.text_part(), *(b.attachment(n, d) for n, d in zip(names, datas, strict=True)))


def _zip_names() -> bytes:
    members = [
        ("稿件/报告\u202excod.docx", b.draft()),
        ("稿件/照片\u202egpj.jpg", b.photo()),
        ("../../etc/cron.d/稿件.docx", b.draft()),
        ("稿件/图\x1b[31m.jpg", b.photo(2)),
    ]
    return b.submission(("稿件.zip", b.zipped(*members)))


def _xml_depth(depth: int) -> bytes:
    inner = "<w:sdt><w:sdtContent>" * depth + "<w:p/>" + "</w:sdtContent></w:sdt>" * depth
    return b.submission(
        (
            f"{b.TITLE}.docx",
            b.docx_package(
                b.document_xml(b.SIGNOFF_PARAGRAPHS).replace(b"<w:body>", b"<w:body>" + inner.encode())
            ),
        )
    )


def _pixels() -> bytes:
    members = [
        (f"稿件/{b.TITLE}.docx", b.draft()),
        ("稿件/航拍.png", b.png_header(100_000, 100_000)),
        ("稿件/全景.jpg", b.jpeg_header(65_535, 65_535)),
    ]
    return b.submission(("稿件.zip", b.make_zip(members)))


def _docx(data: bytes) -> Callable[[], bytes]:
    return lambda: b.submission((f"{b.TITLE}.docx", data))


HEADERS = b.headers('Content-Type: multipart/mixed; boundary="==b1=="')
TRUNCATED = b.mixed(b.text_part(), b.zip_part(), close=False)[:-3000]

CASES = [
    # Malformed MIME: the real messages of CPython's, mail-parser's, enmime's and Proton's suites.
    real("cpython_msg15_inner_part_reuses_outer_boundary", "eml/cpython__msg_15.eml", NA),
    real(
        "mailparser_malformed2_bounce_boundary_with_slash",
        "eml/mailparser__mail_malformed_2.eml",
        auto_reply=True,
    ),
    real(
        "mailparser_malformed3_nul_bytes_start_boundary_missing", "eml/mailparser__mail_malformed_3.eml", NA
    ),
    real("enmime_final_boundary_without_dashes", "eml/enmime__bad-final-boundary.eml", ND),
    real("enmime_illegal_character_in_base64", "eml/enmime__malformed-base64-attach.eml", UD),
    real("protonbridge_python_bytes_literal_as_base64", "eml/protonbridge__wrong_base64.eml", ND),
    real(
        "webklex_traversal_and_stream_wrapper_names",
        "hostile/webklex__issue-414_traversal_attachment_names.eml",
        UF,
        fields=(("problem_sources", ("MyFile.txt",)),),
    ),
    # Malformed MIME, crafted the way CPython's defect tests craft it, around a real submission.
    Case(
        "multipart_without_boundary_parameter",
        lambda: b.mixed(b.text_part(), b.zip_part(), content_type="Content-Type: multipart/mixed"),
        (NA,),
    ),
    Case(
        "boundary_parameter_matches_nothing",
        lambda: b.mixed(
            b.text_part(), b.zip_part(), content_type='Content-Type: multipart/mixed; boundary="x"'
        ),
        (NA,),
    ),
    Case("closing_boundary_never_comes", lambda: b.mixed(b.text_part(), b.zip_part(), close=False), drafts=1),
    Case("message_cut_inside_the_attachment", lambda: TRUNCATED, (UA, ND)),
    Case(
        "base64_without_padding",
        lambda: b.mixed(b.text_part(), b.zip_part(damage=lambda t: t.replace(b"=", b""))),
        drafts=1,
    ),
    Case(
        "base64_with_junk_and_padding_inside",
        lambda: b.mixed(b.text_part(), b.zip_part(damage=lambda t: t.replace(b"\r\n", b"*!==\r\n"))),
        drafts=1,
    ),
    Case(
        "nested_multipart_without_boundary",
        lambda: b.mixed(b.eml("Content-Type: multipart/alternative", body=b.text_part()), b.zip_part()),
        drafts=1,
    ),
    Case(
        "header_line_without_colon_ends_the_headers",
        lambda: b.eml(
            *HEADERS[:2], "this line has no colon", *HEADERS[2:], body=b.multipart_body([b.zip_part()])
        ),
        (NA,),
        fields=(("subject", ""), ("from_addr", b.SENDER)),
    ),
    Case(
        "mbox_envelope_line_inside_the_headers",
        lambda: b.eml(
            *HEADERS[:3],
            "From wangqiang.wh@163.com Fri Jun 20 09:30:00 2025",
            *HEADERS[3:],
            body=b.multipart_body([b.zip_part()]),
        ),
        drafts=1,
    ),
    Case(
        "first_header_line_is_a_continuation",
        lambda: b.eml(" folded first line", *HEADERS, body=b.multipart_body([b.zip_part()])),
        drafts=1,
    ),
    Case(
        "nul_bytes_in_subject_and_body",
        lambda: b.eml(
            *HEADERS[:2],
            b"Subject: \xe5\x8d\xb1\x00\xe5\x8c\x96",
            *HEADERS[3:],
            body=b.multipart_body([b.zip_part()]) + bytes(1000),
        ),
        drafts=1,
        fields=(("subject", "危 化"),),
    ),
    Case(
        "invalid_header_names",
        lambda: b.eml(
            *HEADERS,
            b"X-\xff\xfe: x",
            "Bad Header: y",
            ": no name",
            "X-" + "a" * 5000 + ": z",
            body=b.multipart_body([b.zip_part()]),
        ),
        drafts=1,
    ),
    Case("eight_bit_boundary", lambda: b.mixed(b.zip_part(), boundary="稿".encode()), (NA,)),
    # Size: parts, headers, encoded-words.
    Case("ten_thousand_mime_parts", lambda: _parts(10_000), (LX,), drafts=1),
    Case("header_of_64_kb", lambda: _header(b"X-Junk: " + b"a" * 65536), drafts=1),
    Case(
        "header_of_64_kb_in_1000_folds",
        lambda: _header(b"X-Junk: " + b"\r\n ".join([b"a" * 64] * 1000)),
        drafts=1,
    ),
    Case(
        "subject_of_1_mb",
        lambda: _header("Subject: " + "稿" * 350_000, drop=b"Subject"),
        drafts=1,
        fields=(("subject", "稿" * 350_000),),
    ),
    Case(
        "subject_of_100k_encoded_words",
        lambda: _header("Subject: " + " ".join([b.encoded_word("信")] * 100_000), drop=b"Subject"),
        drafts=1,
        fields=(("subject", "信" * 100_000),),
    ),
    # Senders: what from_addr becomes is what the daemon identifies and answers.
    Case("mailsploit_encoded_words_as_the_address", _mailsploit, drafts=1, fields=(("from_addr", ""),)),
    Case(
        "encoded_crlf_and_bcc_inside_the_address",
        lambda: _header(
            "From: 王强 <" + b.encoded_word(b"office@pjyjj.cn\r\nBcc: all@x.y") + ">", drop=b"From"
        ),
        drafts=1,
        fields=(("from_addr", ""), ("from_name", "王强")),
    ),
    Case(
        "encoded_display_name_hiding_an_address",
        lambda: _header("From: " + b.encoded_word(b"office@pjyjj.cn\x00") + " <evil@x.y>", drop=b"From"),
        drafts=1,
        fields=(("from_addr", "evil@x.y"), ("from_name", "office@pjyjj.cn")),
    ),
    Case(
        "quoted_address_as_display_name",
        lambda: _header('From: "office@pjyjj.cn" <evil@x.y>', drop=b"From"),
        drafts=1,
        fields=(("from_addr", "evil@x.y"), ("from_name", "office@pjyjj.cn")),
    ),
    Case(
        "nul_and_newline_in_display_name",
        lambda: _header("From: " + b.encoded_word("局办公室\r\nTo: a@b.c\x00") + " <evil@x.y>", drop=b"From"),
        drafts=1,
        fields=(("from_addr", "evil@x.y"), ("from_name", "局办公室 To: a@b.c")),
    ),
    Case(
        "two_from_headers_the_first_wins",
        lambda: _header("From: evil@x.y"),
        drafts=1,
        fields=(("from_addr", "evil@x.y"), ("from_name", "")),
    ),
    Case(
        "from_without_address",
        lambda: _header("From: 王强", drop=b"From"),
        drafts=1,
        fields=(("from_addr", ""), ("from_name", "王强")),
    ),
    Case(
        "reply_to_points_elsewhere",
        lambda: _header("Reply-To: 王强 <collect@evil.example>"),
        drafts=1,
        fields=(("from_addr", b.SENDER), ("reply_to", "collect@evil.example")),
    ),
    Case(
        "control_characters_in_message_ids",
        lambda: _header(
            b"In-Reply-To: <a\x01b@c>\r\nMessage-ID: <" + b.encoded_word(b"m\x00\r\nid").encode() + b"@c>",
            drop=b"Message-ID",
        ),
        drafts=1,
        fields=(("message_id", "<mid@c>"), ("in_reply_to", "<ab@c>")),
    ),
    # Archives.
    Case(
        "fifield_overlap_bomb_250_entries",
        lambda: b.submission(("照片.zip", b.overlap_bomb(files=250, kernel=MIB))),
        (LX, ND),
    ),
    real(
        "fifield_zbsm_from_the_corpus",
        "hostile/recursiveextractor__zbsm_overlap_bomb.zip",
        LX,
        ND,
        attach=True,
    ),
    real("droste_quine_zip", "hostile/tika__droste_quine.zip", LX, ND, attach=True),
    Case("zip_nested_ten_deep", lambda: b.submission(("稿件.zip", b.nested_zip(10, b.draft()))), (LX, ND)),
    Case("zip_of_10000_members", lambda: b.submission(("照片.zip", b.many_members_zip(10_000))), (LX, ND)),
    Case(
        "zip_of_10000_members_declaring_10",
        lambda: b.submission(("照片.zip", b.many_members_zip(10_000, declared_entries=10))),
        (LX, ND),
    ),
    Case(
        "member_declaring_1_kb_inflating_to_1_gb",
        lambda: b.submission(
            (
                "稿件.zip",
                b.lying_zip(
                    name="稿件/现场.jpg",
                    inflates_to=1024 * MIB,
                    declares=1024,
                    extra=[(f"稿件/{b.TITLE}.docx", b.draft())],
                ),
            )
        ),
        drafts=1,
        fields=(("images", (1,)),),
    ),
    Case(
        "member_declaring_1_gb_honestly",
        lambda: b.submission(
            (
                "稿件.zip",
                b.lying_zip(
                    name="稿件/视频.mp4",
                    inflates_to=1024 * MIB,
                    declares=1024 * MIB,
                    extra=[(f"稿件/{b.TITLE}.docx", b.draft())],
                ),
            )
        ),
        (LX,),
        drafts=1,
    ),
    # Documents.
    Case("docx_whose_document_xml_inflates_to_1_gb", _docx(b.docx_bomb(1024 * MIB)), (LX,)),
    Case(
        "docx_bomb_deflated_inside_a_zip",
        lambda: b.submission(("稿件.zip", b.zipped((f"稿件/{b.TITLE}.docx", b.docx_bomb(1024 * MIB))))),
        (LX, ND),
    ),
    Case(
        "docx_bomb_stored_inside_a_zip",
        lambda: b.submission(("稿件.zip", b.stored_zip((f"稿件/{b.TITLE}.docx", b.docx_bomb(1024 * MIB))))),
        (LX,),
        fields=(("problem_sources", (f"稿件.zip/稿件/{b.TITLE}.docx",)),),
    ),
    Case("billion_laughs", _docx(b.entity_docx(b.BILLION_LAUGHS, "&lol9;")), (UD,)),
    Case(
        "billion_laughs_in_utf16", _docx(b.entity_docx(b.BILLION_LAUGHS, "&lol9;", encoding="utf-16")), (UD,)
    ),
    Case("xxe_file_etc_passwd", _docx(b.entity_docx(b.XXE, "&xxe;")), (UD,)),
    Case("xxe_file_etc_passwd_in_utf16", _docx(b.entity_docx(b.XXE, "&xxe;", encoding="utf-16")), (UD,)),
    Case("xxe_parameter_entity", _docx(b.entity_docx(b.XXE_PARAMETER, "x")), (UD,)),
    Case("quadratic_blowup_entity", _docx(b.entity_docx(b.quadratic_doctype(), "&a;" * 10_000)), (UD,)),
    Case("xml_nested_10000_deep", lambda: _xml_depth(10_000), (UD,)),
    # Pictures are counted, never decoded.
    Case("pixel_bombs_counted_not_decoded", _pixels, drafts=1, fields=(("images", (2,)),), peak_mb=20),
    # Names.
    Case(
        "traversal_control_and_rtl_attachment_names",
        _names,
        (),
        drafts=1,
        fields=(("sources", ("危化企业专项检查.docx",)), ("images", (2,))),
    ),
    Case(
        "traversal_control_and_rtl_member_names",
        _zip_names,
        (UP, UP),
        drafts=1,
        fields=(("sources", ("稿件.zip/稿件/报告xcod.docx",)), ("images", (1,))),
    ),
    # Charsets.
    Case(
        "unknown_charset_label",
        lambda: _charset_label("x-unknown-charset"),
        drafts=1,
        fields=(("subject", "稿件 危化科信息"),),
    ),
    Case("utf7_spelling_nul_slash_and_markup", _utf7, drafts=1, fields=(("subject", "稿件 <script>"),)),
    Case(
        "charset_label_of_10_kb",
        lambda: _charset_label("x" * 10240),
        drafts=1,
        fields=(("subject", "稿件 危化科信息"),),
    ),
    Case("zlib_codec_as_charset_over_a_64_mb_bomb", _zlib_charset, drafts=1, peak_mb=40),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_message_gets_its_defined_outcome(case: Case, request: pytest.FixtureRequest) -> None:
    """Exactly the listed problems, drafts and auto-reply flag; safe text; bounded memory."""
    raw = case.build()
    if raw is None:
        pytest.skip("shared corpus not present")
    tracemalloc.start()
    try:
        parsed = parse_message(raw, limits=LIMITS, convert=None, rar=True)
        peak = tracemalloc.get_traced_memory()[1] / MIB
    finally:
        tracemalloc.stop()
    # Shown in a JUnit report's properties (record_property warns under xunit2).
    request.node.user_properties.append(("peak_mb", round(peak, 1)))
    assert [p.code for p in parsed.problems] == list(case.codes)
    assert len(parsed.drafts) == case.drafts
    assert parsed.auto_reply is case.auto_reply
    assert parsed.complete
    for name, expected in case.fields:
        assert _field(parsed, name) == expected, name
    check_output(parsed)
    assert peak < case.peak_mb


def _field(parsed: ParsedMessage, name: str) -> object:
    if name == "images":
        return tuple(d.images for d in parsed.drafts)
    if name == "sources":
        return tuple(d.source for d in parsed.drafts)
    if name == "problem_sources":
        return tuple(p.source for p in parsed.problems)
    return getattr(parsed, name)


def test_no_xxe_case_leaks_the_password_file() -> None:
    """Whatever the encoding, /etc/passwd never reaches a title, body, problem or any other field."""
    if not PASSWD.is_file():
        pytest.skip("no /etc/passwd on this machine")
    lines = [line for line in PASSWD.read_text().splitlines() if line]
    for case in (c for c in CASES if c.name.startswith("xxe")):
        raw = case.build()
        assert raw is not None
        record = json.dumps(asdict(parse_message(raw, limits=LIMITS)), ensure_ascii=False)
        assert "root:" not in record
        assert not any(line in record for line in lines)


def test_the_corpus_is_at_least_thirty_messages() -> None:
    """Issue 7 asks for thirty hostile messages with a defined outcome; crafted ones alone suffice."""
    assert len([c for c in CASES if not c.corpus]) >= 30


# ------------------------------------------------------------------------------------ through the guard


@pytest.fixture(scope="module")
def guard() -> Iterator[Guard]:
    """One guard worker with the production limits, shared by the module."""
    with Guard(limits=LIMITS, convert=False) as g:
        yield g


@pytest.mark.parametrize(
    "name",
    [
        "docx_whose_document_xml_inflates_to_1_gb",
        "droste_quine_zip",
        "mailsploit_encoded_words_as_the_address",
        "ten_thousand_mime_parts",
    ],
)
def test_the_guard_gives_the_in_process_answer_when_nothing_overruns(guard: Guard, name: str) -> None:
    """Bombs the parser bounds itself finish inside the worker's limits with the same answer."""
    case = next(c for c in CASES if c.name == name)
    raw = case.build()
    assert raw is not None
    guarded = guard.parse(raw)
    assert guarded.complete
    assert guarded == parse_message(raw, limits=LIMITS)


def test_the_guard_answers_for_a_document_whose_tree_overruns_its_memory() -> None:
    """A 200,000-paragraph draft passes every size and ratio check; lxml's tree of it does not fit
    48 MB: libxml2 reports the failed allocation as damage, the worker lives on."""
    raw = _docx(b.wide_docx(200_000))()
    with Guard(limits=replace(LIMITS, max_memory_bytes=48 * MIB), convert=False) as g:
        parsed = g.parse(raw)
    assert parsed.complete
    assert [p.code for p in parsed.problems] == [UD]
    assert parsed.drafts == ()


def test_the_guard_answers_for_a_bomb_that_overruns_its_memory() -> None:
    """Under a 64 MB worker limit the 1 GB document bomb costs the worker; the sender is still answered."""
    raw = _docx(b.docx_bomb(1024 * MIB))()
    with Guard(limits=replace(LIMITS, max_memory_bytes=64 * MIB), convert=False) as g:
        parsed = g.parse(raw)
        after = g.parse(b.submission())
    assert parsed.complete is False
    assert [p.code for p in parsed.problems] == [LX]
    assert "内存" in parsed.problems[0].message
    assert (parsed.from_addr, parsed.subject, parsed.drafts) == (b.SENDER, "危化科信息", ())
    assert after.complete
    assert len(after.drafts) == 1
