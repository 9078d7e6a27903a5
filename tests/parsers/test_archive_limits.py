"""Archive bombs: too many members, too many bytes, suspicious ratios, overlapping entries."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest

from parsers.archive import expand
from parsers.archivebase import Budget, Kind, Listed, read_capped
from parsers.types import Code, FileEntry, Limits
from parsers.zipreader import ZipReader
from tests.parsers.test_archive import codes, make_zip, paths

MIB = 1024 * 1024


def test_too_many_members_refuses_the_archive() -> None:
    """A zip of 6 files against a limit of 5: one problem naming the count, nothing read."""
    data = make_zip({f"图{i}.jpg": b"photo" for i in range(6)})
    result = expand(FileEntry("稿件.zip", data), limits=Limits(max_archive_members=5))
    assert result.files == ()
    assert codes(result) == [Code.ARCHIVE_LIMITS_EXCEEDED]
    assert "包含 6 个文件，超过 5 个的上限" in result.problems[0].message


def test_litter_and_folders_do_not_count_towards_the_member_limit() -> None:
    """A macOS zip lists every file twice (with __MACOSX) plus folders; only real files count."""
    members = {"稿件/": b""}
    for i in range(5):
        members[f"稿件/图{i}.jpg"] = b"photo"
        members[f"__MACOSX/稿件/._图{i}.jpg"] = b"fork"
    result = expand(FileEntry("稿件.zip", make_zip(members)), limits=Limits(max_archive_members=5))
    assert len(result.files) == 5
    assert result.problems == ()


def test_a_member_declared_over_the_member_limit_is_skipped() -> None:
    """A 2 MiB video against a 1 MiB member limit: that member is reported, the draft is kept."""
    data = make_zip({"视频.mp4": bytes(range(256)) * 8192, "标题.docx": b"draft"}, method=zipfile.ZIP_STORED)
    result = expand(FileEntry("稿件.zip", data), limits=Limits(max_member_bytes=MIB))
    assert paths(result) == ["稿件.zip/标题.docx"]
    assert codes(result) == [Code.ARCHIVE_LIMITS_EXCEEDED]
    assert result.problems[0].source == "稿件.zip/视频.mp4"
    assert "其中的“视频.mp4”解压后超过 1 MB" in result.problems[0].message


def test_declared_total_over_the_limit_refuses_the_archive_before_reading() -> None:
    """Three 600 KiB photos against a 1 MiB total: refused as a whole, from the directory alone."""
    photo = bytes(range(256)) * 2400
    data = make_zip({f"图{i}.jpg": photo for i in range(3)}, method=zipfile.ZIP_STORED)
    result = expand(FileEntry("稿件.zip", data), limits=Limits(max_total_bytes=MIB))
    assert result.files == ()
    assert codes(result) == [Code.ARCHIVE_LIMITS_EXCEEDED]
    assert "解压后超过 1 MB" in result.problems[0].message


def test_a_highly_compressed_large_member_is_a_bomb() -> None:
    """2 MiB of zeros deflate to about 2 KiB (ratio ~1000, over 200): the member is refused."""
    data = make_zip({"炸弹.bin": bytes(2 * MIB), "标题.docx": b"draft"})
    result = expand(FileEntry("稿件.zip", data), limits=Limits())
    assert paths(result) == ["稿件.zip/标题.docx"]
    assert codes(result) == [Code.ARCHIVE_LIMITS_EXCEEDED]
    assert "压缩比超过 200 倍" in result.problems[0].message


def test_a_small_member_may_compress_well() -> None:
    """A 500 KiB blank form compresses 500 times; below 1 MiB that is allowed."""
    result = expand(FileEntry("稿件.zip", make_zip({"空白表.txt": bytes(500 * 1024)})), limits=Limits())
    assert [len(f.data) for f in result.files] == [500 * 1024]
    assert result.problems == ()


def test_many_small_members_that_add_up_to_a_bomb() -> None:
    """Four 900 KiB members of zeros: each under the ratio floor, the archive as a whole not."""
    data = make_zip({f"{i}.bin": bytes(900 * 1024) for i in range(4)})
    result = expand(FileEntry("稿件.zip", data), limits=Limits())
    assert result.files == ()
    assert codes(result) == [Code.ARCHIVE_LIMITS_EXCEEDED]
    assert "疑似压缩炸弹" in result.problems[0].message


def test_the_total_budget_spans_nested_archives() -> None:
    """Bytes read at every level count against one budget: nesting cannot multiply the work."""
    photo = bytes(range(256)) * 1600  # 400 KiB, incompressible enough
    inner = make_zip({"图1.jpg": photo, "图2.jpg": photo}, method=zipfile.ZIP_STORED)
    data = make_zip({"内层.zip": inner}, method=zipfile.ZIP_STORED)
    result = expand(FileEntry("外层.zip", data), limits=Limits(max_total_bytes=MIB))
    assert result.files == ()
    assert [(p.code, p.source) for p in result.problems] == [
        (Code.ARCHIVE_LIMITS_EXCEEDED, "外层.zip/内层.zip")
    ]


def _local(name: bytes, data: bytes) -> bytes:
    return (
        struct.pack(
            "<4s5H3L2H",
            b"PK\x03\x04",
            20,
            0,
            0,
            0,
            0x21,
            zlib.crc32(data),
            len(data),
            len(data),
            len(name),
            0,
        )
        + name
        + data
    )


def _central(name: bytes, data: bytes, offset: int) -> bytes:
    fields = (
        b"PK\x01\x02",
        20,
        20,
        0,
        0,
        0,
        0x21,
        zlib.crc32(data),
        len(data),
        len(data),
        len(name),
        0,
        0,
        0,
        0,
        0,
        offset,
    )
    return struct.pack("<4s6H3L5H2L", *fields) + name


def _end(count: int, size: int, offset: int) -> bytes:
    return struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, size, offset, 0)


def overlapping_zip() -> bytes:
    """David Fifield's construction in miniature: "a.txt"'s stored data quotes "b.txt"'s header.

    Both entries read fine on their own, so zipfile accepts it; repeated over many entries that
    share one compressed kernel, the same trick yields gigabytes from kilobytes.
    """
    inner = _local(b"b.txt", b"hello")
    outer = _local(b"a.txt", inner)
    cd = _central(b"a.txt", inner, 0) + _central(b"b.txt", b"hello", 30 + len(b"a.txt"))
    return outer + cd + _end(2, len(cd), len(outer))


def test_overlapping_entries_are_a_bomb() -> None:
    """Entries whose byte ranges overlap are refused as a whole, though zipfile reads them."""
    data = overlapping_zip()
    assert zipfile.ZipFile(io.BytesIO(data)).read("b.txt") == b"hello"
    result = expand(FileEntry("稿件.zip", data), limits=Limits())
    assert result.files == ()
    assert codes(result) == [Code.ARCHIVE_LIMITS_EXCEEDED]
    assert "相互重叠" in result.problems[0].message


def test_many_directory_entries_pointing_at_one_member_are_a_bomb() -> None:
    """The simplest overlap: a hundred directory entries that all point at the same local data."""
    body = _local(b"k.txt", b"kernel")
    cd = b"".join(_central(b"k.txt", b"kernel", 0) for _ in range(100))
    data = body + cd + _end(100, len(cd), len(body))
    result = expand(FileEntry("稿件.zip", data), limits=Limits())
    assert codes(result) == [Code.ARCHIVE_LIMITS_EXCEEDED]


def test_an_end_record_claiming_a_million_entries_is_refused_before_parsing() -> None:
    """The entry count is read from the end record first, so a huge directory is never parsed."""
    body = _local(b"a.txt", b"x")
    cd = _central(b"a.txt", b"x", 0)
    data = body + cd + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFE, 0xFFFE, len(cd), len(body), 0)
    result = expand(FileEntry("稿件.zip", data), limits=Limits())
    assert codes(result) == [Code.ARCHIVE_LIMITS_EXCEEDED]
    assert "65534" in result.problems[0].message


class _LyingStream:
    """A member stream that keeps producing bytes past anything its archive declared."""

    def read(self, n: int = -1, /) -> bytes:
        return b"\x00" * n


def test_reading_stops_at_the_cap_whatever_was_declared() -> None:
    """Declared sizes can lie; the chunked reader gives up as soon as the cap is passed."""
    assert read_capped(_LyingStream(), 3 * 1024 * 1024) is None
    assert read_capped(io.BytesIO(b"abc"), 3) == b"abc"
    assert read_capped(io.BytesIO(b"abcd"), 3) is None


@pytest.mark.parametrize(("budget", "fatal"), [(10 * MIB, False), (MIB // 2, True)])
def test_zip_reader_enforces_caps_while_reading(budget: int, fatal: bool) -> None:
    """Past the listing checks, the member cap skips one member; an exhausted budget ends the archive."""
    data = make_zip({"大.bin": bytes(range(256)) * 4096}, method=zipfile.ZIP_STORED)
    reader = ZipReader(data, limits=Limits())
    chosen = [Listed(m.name, m.size, m.packed, Kind.FILE, False, m.handle, m.name) for m in reader.listing()]
    [(_, got)] = reader.read(chosen, limits=Limits(max_member_bytes=MIB - 1), budget=Budget(budget))
    assert not isinstance(got, bytes)
    assert got.code is Code.ARCHIVE_LIMITS_EXCEEDED
    assert got.fatal is fatal


def test_a_directory_understating_a_size_is_damage_not_a_short_read() -> None:
    """A member whose directory entry claims fewer bytes than it holds fails its CRC check."""
    data = bytearray(make_zip({"标题.docx": b"draft text " * 100, "图1.jpg": b"photo"}))
    cd = data.find(b"PK\x01\x02")
    struct.pack_into("<L", data, cd + 24, 10)  # uncompressed size of the first member
    result = expand(FileEntry("稿件.zip", bytes(data)), limits=Limits())
    assert paths(result) == ["稿件.zip/图1.jpg"]
    assert [(p.code, p.source) for p in result.problems] == [(Code.UNREADABLE_ARCHIVE, "稿件.zip/标题.docx")]
