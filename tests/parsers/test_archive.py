"""Expanding the zip archives publicists attach: names, litter, nesting, documents, duplicates."""

from __future__ import annotations

import io
import shutil
import struct
import zipfile
import zlib

import docx
import pytest

from parsers.archive import Expanded, expand, is_archive, rar_backend_available
from parsers.types import Code, FileEntry, Limits

LIMITS = Limits()


def make_zip(members: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip as Python writes it: UTF-8 names with the UTF-8 flag when not ASCII."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def make_raw_named_zip(
    members: list[tuple[bytes, bytes]], *, extras: dict[int, bytes] | None = None
) -> bytes:
    """A zip whose names are stored as the given raw bytes, without the UTF-8 flag.

    Chinese Windows tools write names this way (GBK). zipfile cannot, so each member is written
    under an ASCII placeholder of the same length that is then replaced byte for byte.
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for i, (raw, data) in enumerate(members):
            info = zipfile.ZipInfo(_placeholder(i, len(raw)))
            info.extra = (extras or {}).get(i, b"")
            z.writestr(info, data)
    out = buf.getvalue()
    for i, (raw, _) in enumerate(members):
        out = out.replace(_placeholder(i, len(raw)).encode(), raw)
    return out


def _placeholder(i: int, length: int) -> str:
    return f"{i}".rjust(length, "Q")


def unicode_path_field(raw_name: bytes, real_name: str, *, crc: int | None = None) -> bytes:
    """An Info-ZIP Unicode Path extra field (0x7075) for a header name."""
    body = b"\x01" + struct.pack("<L", zlib.crc32(raw_name) if crc is None else crc) + real_name.encode()
    return struct.pack("<HH", 0x7075, len(body)) + body


def make_docx(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def paths(result: Expanded) -> list[str]:
    return [f.path for f in result.files]


def codes(result: Expanded) -> list[Code]:
    return [p.code for p in result.problems]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (make_zip({"a.txt": b"x"}), True),
        (b"PK\x05\x06" + b"\x00" * 18, True),
        (b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 24, True),
        (b"Rar!\x1a\x07\x00" + b"\x00" * 10, True),
        (b"Rar!\x1a\x07\x01\x00" + b"\x00" * 10, True),
        (b"%PDF-1.7\n", False),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", False),
        (b"", False),
    ],
    ids=["zip", "empty-zip", "7z", "rar4", "rar5", "pdf", "word97", "nothing"],
)
def test_is_archive_by_magic_bytes(data: bytes, expected: bool) -> None:
    """Archives are recognised by their first bytes, whatever the attachment is called."""
    assert is_archive(data) is expected


def test_a_plain_zip_of_a_draft_and_photos() -> None:
    """A county bureau zips a folder: a draft and two photos come out under the archive's name."""
    draft = make_docx("盘山县应急管理局开展防汛演练")
    data = make_zip(
        {"稿件/标题.docx": draft, "稿件/图1.jpg": b"\xff\xd8jpeg1", "稿件/图2.jpg": b"\xff\xd8jpeg2"}
    )
    result = expand(FileEntry("稿件.zip", data), limits=LIMITS)
    assert paths(result) == ["稿件.zip/稿件/标题.docx", "稿件.zip/稿件/图1.jpg", "稿件.zip/稿件/图2.jpg"]
    assert result.files[0].data == draft
    assert result.problems == ()


def test_the_draft_inside_is_never_expanded_although_it_is_a_zip() -> None:
    """A .docx is a zip package itself; it is returned whole, as are documents without a suffix."""
    draft = make_docx("大洼区安全生产月活动")
    data = make_zip(
        {"标题.docx": draft, "稿件": draft, "表格.xlsx": make_zip({"[Content_Types].xml": b"<x/>"})}
    )
    result = expand(FileEntry("稿件.zip", data), limits=LIMITS)
    assert paths(result) == ["稿件.zip/标题.docx", "稿件.zip/稿件", "稿件.zip/表格.xlsx"]
    assert result.problems == ()


@pytest.mark.parametrize("name", ["表格.xlsx", "稿件.docx", "附件"])
def test_a_document_handed_to_expand_comes_back_whole(name: str) -> None:
    """An .xlsx attached bare starts like a zip; expand returns it as the one file, unopened."""
    package = make_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
    assert expand(FileEntry(name, package), limits=LIMITS) == Expanded(files=(FileEntry(name, package),))


def test_gbk_names_without_the_utf8_flag_decode_to_chinese() -> None:
    """WinRAR or 360压缩 on Chinese Windows stores GBK bytes and no UTF-8 flag."""
    data = make_raw_named_zip(
        [("稿件/标题.docx".encode("gbk"), b"draft"), ("稿件/现场照片.jpg".encode("gbk"), b"photo")]
    )
    assert zipfile.ZipFile(io.BytesIO(data)).infolist()[0].flag_bits & 0x800 == 0
    result = expand(FileEntry("稿件.zip", data), limits=LIMITS)
    assert paths(result) == ["稿件.zip/稿件/标题.docx", "稿件.zip/稿件/现场照片.jpg"]


def test_utf8_names_without_the_flag_stay_utf8() -> None:
    """macOS Archive Utility writes UTF-8 names but does not set the flag."""
    data = make_raw_named_zip([("应急局/信息稿.docx".encode(), b"draft")])
    assert paths(expand(FileEntry("a.zip", data), limits=LIMITS)) == ["a.zip/应急局/信息稿.docx"]


def test_gb18030_only_characters_decode() -> None:
    """A name with a character outside GBK (a rare given name, 䶮) still decodes via GB18030."""
    data = make_raw_named_zip([("刘䶮稿件.docx".encode("gb18030"), b"draft")])
    assert paths(expand(FileEntry("a.zip", data), limits=LIMITS)) == ["a.zip/刘䶮稿件.docx"]


def test_japanese_cp932_names_do_not_crash() -> None:
    """A Shift_JIS name cannot be told from GBK; it decodes to some Chinese, and the file is kept."""
    data = make_raw_named_zip([("表だよ/一覧表.txt".encode("cp932"), b"hello")])
    result = expand(FileEntry("a.zip", data), limits=LIMITS)
    assert len(result.files) == 1
    assert result.files[0].data == b"hello"
    assert result.problems == ()


def test_unicode_path_extra_field_wins_when_its_crc_matches() -> None:
    """Info-ZIP tools store the real name in field 0x7075 beside a code-page name."""
    raw = "报送.docx".encode("gbk")
    field = unicode_path_field(raw, "信息报送.docx")
    data = make_raw_named_zip([(raw, b"draft")], extras={0: field})
    assert paths(expand(FileEntry("a.zip", data), limits=LIMITS)) == ["a.zip/信息报送.docx"]


def test_unicode_path_extra_field_is_ignored_when_its_crc_is_stale() -> None:
    """A field left over from a rename (its CRC is of another name) must not rename the member."""
    raw = "报送.docx".encode("gbk")
    field = unicode_path_field(raw, "旧名字.docx", crc=zlib.crc32(b"something else"))
    data = make_raw_named_zip([(raw, b"draft")], extras={0: field})
    assert paths(expand(FileEntry("a.zip", data), limits=LIMITS)) == ["a.zip/报送.docx"]


def test_os_litter_is_dropped_silently() -> None:
    """macOS resource forks, Explorer thumbnails and Word lock files are not the sender's files."""
    data = make_zip(
        {
            "稿件/": b"",
            "稿件/标题.docx": b"draft",
            "__MACOSX/稿件/._标题.docx": b"fork",
            "稿件/._图1.jpg": b"fork",
            "稿件/.DS_Store": b"ds",
            "稿件/Thumbs.db": b"thumbs",
            "稿件/desktop.ini": b"ini",
            "稿件/~$标题.docx": b"owner",
            "稿件/~$旧稿.doc": b"owner",
        }
    )
    result = expand(FileEntry("稿件.zip", data), limits=LIMITS)
    assert paths(result) == ["稿件.zip/稿件/标题.docx"]
    assert result.problems == ()


def test_names_are_normalised() -> None:
    """Backslash separators (old DOS tools) and "./" prefixes make ordinary paths."""
    data = make_zip({"稿件\\标题.docx": b"draft", "./图1.jpg": b"photo"})
    assert paths(expand(FileEntry("稿件.zip", data), limits=LIMITS)) == [
        "稿件.zip/稿件/标题.docx",
        "稿件.zip/图1.jpg",
    ]


def test_a_duplicate_name_keeps_the_first_member() -> None:
    """Two members with one name: the first is kept, the second dropped without a problem."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("标题.docx", b"first")
        with pytest.warns(UserWarning, match="Duplicate name"):
            z.writestr("标题.docx", b"second")
    result = expand(FileEntry("a.zip", buf.getvalue()), limits=LIMITS)
    assert [(f.path, f.data) for f in result.files] == [("a.zip/标题.docx", b"first")]
    assert result.problems == ()


def test_a_zip_inside_a_zip_is_expanded_in_place() -> None:
    """A department zips the county's zip again: both levels show in the display path."""
    inner = make_zip({"标题.docx": b"draft"})
    data = make_zip({"内层.zip": inner, "说明.txt": b"note"})
    result = expand(FileEntry("外层.zip", data), limits=LIMITS)
    assert paths(result) == ["外层.zip/内层.zip/标题.docx", "外层.zip/说明.txt"]
    assert result.problems == ()


def test_nested_archives_are_found_by_content_not_name() -> None:
    """An inner zip renamed without its suffix is still opened."""
    data = make_zip({"附件": make_zip({"标题.docx": b"draft"})})
    assert paths(expand(FileEntry("外层.zip", data), limits=LIMITS)) == ["外层.zip/附件/标题.docx"]


def test_depth_beyond_the_limit_is_refused_for_that_member_only() -> None:
    """Three levels with max_depth 2: the innermost archive is reported, its siblings are kept."""
    level3 = make_zip({"深处.docx": b"draft"})
    level2 = make_zip({"第三层.zip": level3, "第二层.docx": b"draft2"})
    data = make_zip({"第二层.zip": level2, "第一层.docx": b"draft1"})
    result = expand(FileEntry("第一层.zip", data), limits=Limits(max_depth=2))
    assert paths(result) == ["第一层.zip/第二层.zip/第二层.docx", "第一层.zip/第一层.docx"]
    assert codes(result) == [Code.ARCHIVE_LIMITS_EXCEEDED]
    assert result.problems[0].source == "第一层.zip/第二层.zip/第三层.zip"
    assert "压缩层级超过 2 层" in result.problems[0].message


def test_an_encrypted_zip_is_reported_once() -> None:
    """A sender protects the zip with a password: one problem for the archive, nothing read."""
    data = bytearray(make_zip({"标题.docx": b"draft", "图1.jpg": b"photo"}))
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) >= 0:
        data[at + 8] |= 0x01  # general-purpose flag bit 0 of each central-directory entry
        at += 4
    result = expand(FileEntry("稿件.zip", bytes(data)), limits=LIMITS)
    assert result.files == ()
    assert codes(result) == [Code.ENCRYPTED_ARCHIVE]
    assert result.problems[0].message == "压缩包“稿件.zip”设置了密码，无法读取"


def test_an_empty_zip_yields_nothing() -> None:
    """A zip with no members (just its end record) is neither a file nor a problem here."""
    assert expand(FileEntry("空.zip", make_zip({})), limits=LIMITS) == Expanded()


def test_bytes_that_are_no_archive_are_unreadable() -> None:
    """An attachment named .zip that holds something else is reported, not guessed at."""
    result = expand(FileEntry("稿件.zip", b"not an archive at all"), limits=LIMITS)
    assert codes(result) == [Code.UNREADABLE_ARCHIVE]


def test_without_a_rar_backend_rar_is_unsupported_with_advice() -> None:
    """On a server without unar, a RAR (even nested) is refused and the sender told to use zip."""
    rar = b"Rar!\x1a\x07\x01\x00" + b"\x00" * 32
    top = expand(FileEntry("稿件.rar", rar), limits=LIMITS, rar=False)
    nested = expand(
        FileEntry("稿件.zip", make_zip({"内层.rar": rar, "a.docx": b"d"})), limits=LIMITS, rar=False
    )
    assert codes(top) == [Code.UNSUPPORTED_FORMAT]
    assert "请改用 zip 压缩" in top.problems[0].message
    assert paths(nested) == ["稿件.zip/a.docx"]
    assert [(p.code, p.source) for p in nested.problems] == [(Code.UNSUPPORTED_FORMAT, "稿件.zip/内层.rar")]


@pytest.mark.unar
@pytest.mark.skipif(shutil.which("unar") is None, reason="Debian's unar is not installed")
def test_rar_backend_is_found_when_unar_is_installed() -> None:
    """The probe the daemon uses at start-up sees Debian's unar."""
    assert rar_backend_available()
