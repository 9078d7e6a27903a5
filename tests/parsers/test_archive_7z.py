"""7z archives (py7zr): drafts read into memory, encryption, limits, damage."""

from __future__ import annotations

import hashlib
import io

import py7zr
import pytest

from parsers.archive import expand
from parsers.archivebase import Budget, Kind, Listed
from parsers.sevenzipreader import SevenZipReader
from parsers.types import Code, FileEntry, Limits
from tests.parsers.test_archive import codes, make_zip, paths

MIB = 1024 * 1024


def make_7z(members: dict[str, bytes], *, password: str | None = None, encrypt_names: bool = False) -> bytes:
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w", password=password, header_encryption=encrypt_names) as z:
        for name, data in members.items():
            z.writestr(data, name)
    return buf.getvalue()


def test_a_7z_of_a_draft_and_photos() -> None:
    """A unit packs with 7-Zip: every member comes out with its Chinese path."""
    data = make_7z({"稿件/标题.docx": b"draft", "稿件/图1.jpg": b"photo1", "稿件/空.txt": b""})
    result = expand(FileEntry("稿件.7z", data), limits=Limits())
    assert [(f.path, f.data) for f in result.files] == [
        ("稿件.7z/稿件/标题.docx", b"draft"),
        ("稿件.7z/稿件/图1.jpg", b"photo1"),
        ("稿件.7z/稿件/空.txt", b""),
    ]
    assert result.problems == ()


def test_a_zip_inside_a_7z_is_expanded() -> None:
    """Formats nest in any order."""
    data = make_7z({"内层.zip": make_zip({"标题.docx": b"draft"})})
    assert paths(expand(FileEntry("外层.7z", data), limits=Limits())) == ["外层.7z/内层.zip/标题.docx"]


def test_unsafe_names_and_litter_in_a_7z() -> None:
    """Drive letters and ".." are reported, litter dropped, the draft kept."""
    data = make_7z(
        {"C:/x.txt": b"evil", "a\\..\\..\\b.txt": b"evil", "Thumbs.db": b"t", "标题.docx": b"draft"}
    )
    result = expand(FileEntry("稿件.7z", data), limits=Limits())
    assert paths(result) == ["稿件.7z/标题.docx"]
    assert codes(result) == [Code.UNSAFE_PATH, Code.UNSAFE_PATH]


@pytest.mark.parametrize("encrypt_names", [False, True], ids=["data", "data-and-names"])
def test_an_encrypted_7z_is_reported(encrypt_names: bool) -> None:
    """A password on the data, or on the names too, gives one encrypted-archive problem."""
    data = make_7z({"标题.docx": b"draft"}, password="123456", encrypt_names=encrypt_names)
    result = expand(FileEntry("稿件.7z", data), limits=Limits())
    assert result.files == ()
    assert codes(result) == [Code.ENCRYPTED_ARCHIVE]


def test_a_7z_bomb_is_refused_from_its_header() -> None:
    """2 MiB of zeros in a few hundred bytes: refused by ratio before decompression."""
    data = make_7z({"炸弹.bin": bytes(2 * MIB), "标题.docx": b"draft"})
    result = expand(FileEntry("稿件.7z", data), limits=Limits())
    assert codes(result) == [Code.ARCHIVE_LIMITS_EXCEEDED]
    assert "疑似压缩炸弹" in result.problems[0].message


def test_the_7z_reader_stops_at_the_cap_while_decompressing() -> None:
    """Past the header checks, the capped writer stops py7zr mid-stream; no exception escapes."""
    data = make_7z({"a.bin": bytes(range(256)) * 4096, "b.bin": b"small"})
    reader = SevenZipReader(data, limits=Limits())
    chosen = [Listed(m.name, m.size, m.packed, Kind.FILE, False, m.handle, m.name) for m in reader.listing()]
    got = list(reader.read(chosen, limits=Limits(max_member_bytes=MIB // 2), budget=Budget(10 * MIB)))
    failures = [g for _, g in got if not isinstance(g, bytes)]
    assert [(f.code, f.fatal) for f in failures] == [(Code.ARCHIVE_LIMITS_EXCEEDED, True)]
    assert "a.bin" in failures[0].detail


@pytest.mark.parametrize("keep", [0.95, 0.7, 0.3])
def test_a_truncated_7z_is_unreadable(keep: float) -> None:
    """A 7z cut short (its header sits at the end) is unreadable, never an exception."""
    data = make_7z({"标题.docx": bytes(range(256)) * 64, "图1.jpg": b"photo" * 100})
    result = expand(FileEntry("稿件.7z", data[: int(len(data) * keep)]), limits=Limits())
    assert result.files == ()
    assert codes(result) == [Code.UNREADABLE_ARCHIVE]


@pytest.mark.parametrize(("where", "kept"), [(100, []), (39_000, ["稿件.7z/标题.docx"])])
def test_a_damaged_7z_keeps_only_members_that_pass_their_crc(where: int, kept: list[str]) -> None:
    """A flipped byte in the second photo's data spoils it alone; one in the draft's spoils both.

    Hash output does not compress, so LZMA2 stores them and each member's bytes sit in order.
    """
    draft, photo = (
        b"".join(hashlib.sha256(f"{seed}{i}".encode()).digest() for i in range(625)) for seed in ("稿", "图")
    )
    data = bytearray(make_7z({"标题.docx": draft, "图1.jpg": photo}))
    data[32 + where] ^= 0xFF  # 32: the 7z signature header; packed streams follow it
    result = expand(FileEntry("稿件.7z", bytes(data)), limits=Limits())
    assert paths(result) == kept
    assert [f.data for f in result.files] == [draft] * len(kept)
    assert codes(result) == [Code.UNREADABLE_ARCHIVE]
