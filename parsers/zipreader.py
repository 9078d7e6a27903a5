"""Zip archives (PKWARE APPNOTE 6.3): legacy GBK names, Unicode Path fields, overlap bombs.

Names without the UTF-8 flag (bit 11) are what the sender's code page made of them; zipfile
decodes them as CP437, so the original bytes are recovered and decoded by `decode_legacy`.
"""

from __future__ import annotations

import io
import itertools
import lzma
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from typing import cast

from parsers.archivebase import (
    ArchiveFailedError,
    Budget,
    Failure,
    Kind,
    Listed,
    decode_legacy,
    member_cap,
    over_cap,
    read_capped,
)
from parsers.types import Code, Limits

_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
_UNICODE_PATH = 0x7075
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
_END_RECORD = struct.Struct("<4s4H2LH")
# How many central-directory entries are parsed at all: far above any member limit (a macOS
# zip lists every photo twice, plus folders), far below what hurts (a 50 MB attachment can
# hold a million empty entries, each a Python object once zipfile parses it).
MAX_ENTRIES_FACTOR = 10


class ZipReader:
    """Lists and reads one zip held in memory."""

    # Zip and 7z either open whole or not at all; only RAR lists past a damaged header.
    damage = ""

    def __init__(self, data: bytes, *, limits: Limits) -> None:
        declared = declared_entries(data)
        if declared > MAX_ENTRIES_FACTOR * limits.max_archive_members:
            detail = f"包含 {declared} 个文件，超过 {limits.max_archive_members} 个的上限"
            raise ArchiveFailedError(Code.ARCHIVE_LIMITS_EXCEEDED, detail)
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, NotImplementedError, UnicodeDecodeError, ValueError, OSError) as e:
            raise ArchiveFailedError(Code.UNREADABLE_ARCHIVE, "文件已损坏或不完整") from e
        infos = self._zip.infolist()
        if _overlaps(infos, data):
            raise ArchiveFailedError(Code.ARCHIVE_LIMITS_EXCEEDED, "文件数据相互重叠，疑似压缩炸弹")
        self._infos = infos

    def listing(self) -> list[Listed]:
        return [
            Listed(
                name=_name(info),
                size=info.file_size,
                packed=info.compress_size,
                kind=_kind(info),
                encrypted=bool(info.flag_bits & _ENCRYPTED_FLAG),
                handle=info,
            )
            for info in self._infos
        ]

    def read(
        self, chosen: Sequence[Listed], *, limits: Limits, budget: Budget
    ) -> Iterator[tuple[Listed, bytes | Failure]]:
        for m in chosen:
            try:
                with self._zip.open(cast(zipfile.ZipInfo, m.handle)) as stream:
                    data = read_capped(stream, member_cap(limits, budget))
            except NotImplementedError:
                # Deflate64 (Explorer, for members over 2 GB), PPMd, strong encryption.
                yield m, Failure(Code.UNREADABLE_ARCHIVE, f"其中的“{m.path}”使用了不支持的压缩方式")
                continue
            except (
                zipfile.BadZipFile,
                zlib.error,
                lzma.LZMAError,
                EOFError,
                RuntimeError,
                ValueError,
                OSError,
            ):
                # Bad CRC, truncated data, a local header that disagrees with the directory.
                yield m, Failure(Code.UNREADABLE_ARCHIVE, f"其中的“{m.path}”已损坏")
                continue
            if data is None:
                yield m, over_cap(m.path, limits=limits, budget=budget)
                continue
            budget.left -= len(data)
            yield m, data


def declared_entries(data: bytes) -> int:
    """How many central-directory entries zipfile would parse (0 when there is no end record).

    The end record's count is the sender's claim, and zipfile does not go by it: it parses entries
    until the directory's byte size is used up. A zip that declares 10 entries over a directory of
    300,000 is measured by the entry signatures in that directory instead.
    """
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65536 - _END_RECORD.size))
    if at < 0 or at + _END_RECORD.size > len(data):
        return 0
    fields = _END_RECORD.unpack_from(data, at)
    # zipfile reads the directory as the `size` bytes just before the end record (ZIP64 aside).
    signatures = data.count(b"PK\x01\x02", max(0, at - int(fields[5])), at)
    return max(int(fields[4]), signatures)


def _name(info: zipfile.ZipInfo) -> str:
    utf8 = bool(info.flag_bits & _UTF8_FLAG)
    # CP437 and the strict UTF-8 zipfile applied both round-trip to the stored bytes exactly.
    raw = info.orig_filename.encode("utf-8" if utf8 else "cp437")
    unicode_path = _unicode_path(info.extra, raw)
    if unicode_path is not None:
        return unicode_path
    return info.orig_filename if utf8 else decode_legacy(raw)


def _unicode_path(extra: bytes, raw: bytes) -> str | None:
    """The Info-ZIP Unicode Path field (0x7075): version 1, CRC-32 of the header name, UTF-8 name.

    A field whose CRC does not match was written for another name (the entry was renamed by a
    tool that kept the old field) and must be ignored, per the Info-ZIP note.
    """
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + size]
        pos += 4 + size
        if tag != _UNICODE_PATH or len(body) < 6 or body[0] != 1:
            continue
        if struct.unpack_from("<L", body, 1)[0] != zlib.crc32(raw):
            continue
        try:
            return body[5:].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return None


def _kind(info: zipfile.ZipInfo) -> Kind:
    # Not ZipInfo.is_dir(): it fails on a name that is empty once cut at a NUL byte.
    if info.orig_filename.endswith(("/", "\\")):
        return Kind.DIR
    # Unix archivers keep st_mode in the high 16 bits of the external attributes.
    if stat.S_ISLNK(info.external_attr >> 16):
        return Kind.LINK
    return Kind.FILE


def _overlaps(infos: Sequence[zipfile.ZipInfo], data: bytes) -> bool:
    """Whether two entries share bytes: David Fifield's overlapping-file zip bomb (WOOT 2019).

    Each entry owns [local header offset, end of its compressed data); in a sound zip these
    ranges are disjoint. zipfile in Python 3.11 does not check it.
    """
    spans = sorted((info.header_offset, _local_end(info, data)) for info in infos)
    return any(end > next_start for (_, end), (next_start, _) in itertools.pairwise(spans))


def _local_end(info: zipfile.ZipInfo, data: bytes) -> int:
    start = info.header_offset
    header = len(info.orig_filename.encode("utf-8" if info.flag_bits & _UTF8_FLAG else "cp437"))
    extra = 0
    if start + _LOCAL_HEADER.size <= len(data) and data[start : start + 4] == b"PK\x03\x04":
        fields = _LOCAL_HEADER.unpack_from(data, start)
        header, extra = fields[9], fields[10]
    return start + _LOCAL_HEADER.size + header + extra + info.compress_size
