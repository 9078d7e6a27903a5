"""Hostile and damaged zips: unsafe names, symlinks, bad CRCs, truncation."""

from __future__ import annotations

import io
import stat
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.archive import expand
from parsers.types import Code, FileEntry, Limits
from tests.parsers.test_archive import codes, make_raw_named_zip, make_zip, paths
from tests.parsers.test_archive_7z import make_7z

LIMITS = Limits()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("/etc/passwd", "是绝对路径"),
        ("C:\\Windows\\system.ini", "是绝对路径"),
        ("C:/Users/x.docx", "是绝对路径"),
        ("d:标题.docx", "是绝对路径"),
        ("\\\\server\\share\\x.docx", "是绝对路径"),
        ("../../etc/cron.d/x", "含有“..”上级目录"),
        ("稿件/../../x.docx", "含有“..”上级目录"),
        ("..\\..\\Temp\\evil.txt", "含有“..”上级目录"),
    ],
)
def test_an_unsafe_member_is_skipped_and_reported(name: str, reason: str) -> None:
    """A member with an unsafe name is reported by name; the draft beside it is kept."""
    data = make_zip({name: b"evil", "稿件/标题.docx": b"draft"})
    result = expand(FileEntry("稿件.zip", data), limits=LIMITS)
    assert paths(result) == ["稿件.zip/稿件/标题.docx"]
    assert codes(result) == [Code.UNSAFE_PATH]
    assert reason in result.problems[0].message
    assert result.problems[0].message.startswith("压缩包中的文件“稿件.zip/")


def test_a_name_with_a_nul_byte_is_unsafe() -> None:
    """A NUL hides an extension from tools that stop reading at it ("标题.docx\\0.exe")."""
    data = make_raw_named_zip([("标题.docx\0.exe".encode("gbk"), b"evil"), (b"draft.docx", b"draft")])
    result = expand(FileEntry("稿件.zip", data), limits=LIMITS)
    assert paths(result) == ["稿件.zip/draft.docx"]
    assert codes(result) == [Code.UNSAFE_PATH]
    assert "控制字符" in result.problems[0].message
    assert "\x00" not in result.problems[0].message + result.problems[0].source


def test_a_gbk_name_whose_second_byte_is_a_backslash_is_not_split() -> None:
    """GBK trail bytes include 0x5C ("\\"), as in 淺 (0x9C 0x5C): names are decoded before splitting."""
    raw = "淺談防汛.docx".encode("gbk")
    assert b"\\" in raw
    result = expand(FileEntry("稿件.zip", make_raw_named_zip([(raw, b"draft")])), limits=LIMITS)
    assert paths(result) == ["稿件.zip/淺談防汛.docx"]


def test_a_symlink_member_is_unsafe() -> None:
    """A Unix symlink (S_IFLNK in the external attributes) is never followed nor returned."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        link = zipfile.ZipInfo("稿件/链接.docx")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(link, "/etc/passwd")
        z.writestr("稿件/标题.docx", b"draft")
    result = expand(FileEntry("稿件.zip", buf.getvalue()), limits=LIMITS)
    assert paths(result) == ["稿件.zip/稿件/标题.docx"]
    assert codes(result) == [Code.UNSAFE_PATH]
    assert "符号链接" in result.problems[0].message


def test_a_bad_crc_keeps_the_intact_members() -> None:
    """One flipped byte in a photo: the archive is reported with that member, the draft is kept."""
    data = bytearray(
        make_zip({"图1.jpg": b"photo bytes " * 50, "标题.docx": b"draft"}, method=zipfile.ZIP_STORED)
    )
    data[data.find(b"photo bytes") + 5] ^= 0xFF
    result = expand(FileEntry("稿件.zip", bytes(data)), limits=LIMITS)
    assert paths(result) == ["稿件.zip/标题.docx"]
    assert [(p.code, p.source) for p in result.problems] == [(Code.UNREADABLE_ARCHIVE, "稿件.zip/图1.jpg")]
    assert result.problems[0].message == "压缩包“稿件.zip”无法打开（其中的“图1.jpg”已损坏）"


def test_corrupt_deflate_data_is_unreadable() -> None:
    """Garbage inside a deflate stream is caught as damage, not raised."""
    data = bytearray(make_zip({"标题.docx": bytes(range(256)) * 40}))
    start = 30 + len("标题.docx".encode())
    data[start : start + 40] = b"\xff" * 40
    result = expand(FileEntry("稿件.zip", bytes(data)), limits=LIMITS)
    assert result.files == ()
    assert codes(result) == [Code.UNREADABLE_ARCHIVE]


@pytest.mark.parametrize("keep", [0.9, 0.5, 0.1])
def test_a_truncated_zip_is_unreadable(keep: float) -> None:
    """A mail client cut the attachment short: the central directory is gone, the zip is unreadable."""
    data = make_zip({"标题.docx": bytes(range(256)) * 100, "图1.jpg": b"photo"})
    result = expand(FileEntry("稿件.zip", data[: int(len(data) * keep)]), limits=LIMITS)
    assert result.files == ()
    assert codes(result) == [Code.UNREADABLE_ARCHIVE]


def test_an_unsupported_compression_method_is_unreadable() -> None:
    """Deflate64 (method 9, from Explorer) is not in zipfile: the member is reported, not raised."""
    data = bytearray(make_zip({"标题.docx": b"draft"}, method=zipfile.ZIP_STORED))
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        data[data.find(signature) + offset] = 9
    result = expand(FileEntry("稿件.zip", bytes(data)), limits=LIMITS)
    assert codes(result) == [Code.UNREADABLE_ARCHIVE]
    assert "不支持的压缩方式" in result.problems[0].message


def test_a_nested_damaged_archive_does_not_spoil_its_siblings() -> None:
    """A broken inner zip is reported under its own path; the outer archive's draft is kept."""
    data = make_zip({"内层.zip": b"PK\x03\x04 broken", "标题.docx": b"draft"})
    result = expand(FileEntry("外层.zip", data), limits=LIMITS)
    assert paths(result) == ["外层.zip/标题.docx"]
    assert [(p.code, p.source) for p in result.problems] == [(Code.UNREADABLE_ARCHIVE, "外层.zip/内层.zip")]


_SAMPLES = {
    "zip": make_zip(
        {"稿件/标题.docx": b"draft " * 40, "稿件/图1.jpg": b"photo", "内层.zip": make_zip({"a.txt": b"a"})}
    ),
    "7z": make_7z({"稿件/标题.docx": b"draft " * 40, "稿件/图1.jpg": b"photo"}),
}
ARCHIVE_CODES = {
    Code.UNREADABLE_ARCHIVE,
    Code.ENCRYPTED_ARCHIVE,
    Code.ARCHIVE_LIMITS_EXCEEDED,
    Code.UNSAFE_PATH,
    Code.UNSUPPORTED_FORMAT,
}


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(sorted(_SAMPLES)),
    edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), max_size=6),
    cut=st.none() | st.integers(min_value=0),
)
def test_mangled_archives_give_values_never_exceptions(
    kind: str, edits: list[tuple[int, int]], cut: int | None
) -> None:
    """Whatever bytes a damaged or crafted attachment holds, expand returns files and problems."""
    data = bytearray(_SAMPLES[kind])
    for at, value in edits:
        data[at % len(data)] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    result = expand(FileEntry("稿件.zip", bytes(data)), limits=LIMITS)
    assert {p.code for p in result.problems} <= ARCHIVE_CODES
    assert all(f.path.startswith("稿件.zip/") for f in result.files)
