"""7z archives through py7zr, decompressed into memory by a writer that enforces the byte caps.

py7zr extracts a whole archive in one call (solid blocks are decompressed front to back), so a
member over its cap stops the extraction; members read before it are kept when their CRC-32
matches the header.
"""

from __future__ import annotations

import io
import lzma
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import cast

import py7zr
from py7zr.exceptions import ArchiveError as SevenZipError
from py7zr.exceptions import PasswordRequired
from py7zr.io import Py7zIO, WriterFactory

from parsers.archivebase import ArchiveFailedError, Budget, Failure, Kind, Listed, member_cap, over_cap
from parsers.types import Code, Limits


@dataclass(frozen=True)
class _Member:
    name: str
    crc: int | None


class _OverCapError(Exception):
    """Raised inside py7zr's extraction loop to stop it when a cap is passed."""


class _CappedWriter(Py7zIO):
    def __init__(self, factory: _CappedFactory) -> None:
        self._factory = factory
        self.buf = bytearray()
        self.done = False

    def write(self, s: bytes | bytearray) -> int:
        self._factory.written += len(s)
        self.buf += s
        if len(self.buf) > self._factory.member_cap or self._factory.written > self._factory.total_cap:
            raise _OverCapError
        return len(s)

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def flush(self) -> None:
        pass

    def size(self) -> int:
        return len(self.buf)

    def close(self) -> None:
        self.done = True


class _CappedFactory(WriterFactory):
    def __init__(self, *, member_cap: int, total_cap: int) -> None:
        self.member_cap = member_cap
        self.total_cap = total_cap
        self.written = 0
        self.products: dict[str, _CappedWriter] = {}
        self.last = ""

    def create(self, filename: str) -> Py7zIO:
        writer = _CappedWriter(self)
        self.products[filename] = writer
        self.last = filename
        return writer


class SevenZipReader:
    """Lists and reads one 7z archive held in memory."""

    damage = ""

    def __init__(self, data: bytes, *, limits: Limits) -> None:
        try:
            self._archive = py7zr.SevenZipFile(io.BytesIO(data))
        except PasswordRequired as e:
            # The names themselves are encrypted (7-Zip's "encrypt file names" option).
            raise ArchiveFailedError(Code.ENCRYPTED_ARCHIVE) from e
        except (SevenZipError, lzma.LZMAError, EOFError, ValueError, KeyError, IndexError, OSError) as e:
            raise ArchiveFailedError(Code.UNREADABLE_ARCHIVE, "文件已损坏或不完整") from e

    def listing(self) -> list[Listed]:
        encrypted = self._archive.needs_password()
        return [
            Listed(
                name=f.filename,
                size=f.uncompressed,
                packed=f.compressed,
                kind=Kind.DIR
                if f.is_directory
                else Kind.LINK
                if f.is_symlink or f.is_junction
                else Kind.FILE,
                encrypted=encrypted,
                handle=_Member(f.filename, f.crc32),
            )
            for f in self._archive.files
        ]

    def read(
        self, chosen: Sequence[Listed], *, limits: Limits, budget: Budget
    ) -> Iterator[tuple[Listed, bytes | Failure]]:
        if not chosen:
            return
        factory = _CappedFactory(member_cap=member_cap(limits, budget), total_cap=budget.left)
        failure: Failure | None = None
        try:
            self._archive.extract(targets=[cast(_Member, m.handle).name for m in chosen], factory=factory)
        except _OverCapError:
            failure = over_cap(factory.last, limits=limits, budget=budget, fatal=True)
        except PasswordRequired:
            failure = Failure(Code.ENCRYPTED_ARCHIVE, "", fatal=True)
        except (
            SevenZipError,
            lzma.LZMAError,
            zlib.error,
            EOFError,
            ValueError,
            KeyError,
            IndexError,
            OSError,
        ):
            failure = Failure(Code.UNREADABLE_ARCHIVE, "其中部分文件已损坏", fatal=True)
        for m in chosen:
            writer = factory.products.get(_key(m))
            if writer is not None and _intact(m, writer):
                budget.left -= len(writer.buf)
                yield m, bytes(writer.buf)
        if failure is not None:
            yield chosen[-1], failure


def _key(m: Listed) -> str:
    """The name py7zr hands the writer factory: the member name without "." or empty parts."""
    return "/".join(p for p in cast(_Member, m.handle).name.split("/") if p not in ("", "."))


def _intact(m: Listed, writer: _CappedWriter) -> bool:
    """Whether a member came out whole: py7zr checks CRCs only after it has handed the bytes over."""
    crc = cast(_Member, m.handle).crc
    return writer.done and len(writer.buf) == m.size and (crc is None or zlib.crc32(writer.buf) == crc)
