"""Archives a sender attaches (zip, 7z, RAR 4/5), expanded in memory into the files inside.

Formats are told by magic bytes, never by name. Nested archives are expanded in place up to
`Limits.max_depth` (the attached archive is level 1). Office documents are zip packages too and
are returned as files, never expanded. Nothing is ever written to disk under a member's name:
unsafe names are reported so the sender learns of them, not because extraction depends on it.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import rarfile

from parsers.archivebase import ArchiveFailedError, Budget, Failure, Listed, plan
from parsers.rarreader import NO_BACKEND, RarReader
from parsers.sevenzipreader import SevenZipReader
from parsers.types import Code, FileEntry, Limits, Problem, problem
from parsers.zipreader import MAX_ENTRIES_FACTOR, ZipReader, declared_entries

Format = Literal["zip", "7z", "rar"]

_MAGIC: tuple[tuple[bytes, Format], ...] = (
    (b"PK\x03\x04", "zip"),
    # An archive with no members is only its end-of-central-directory record.
    (b"PK\x05\x06", "zip"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07\x00", "rar"),
    (b"Rar!\x1a\x07\x01\x00", "rar"),
)

# Zip-based document formats: OOXML (Word, WPS, Excel, PowerPoint), ODF, and China's OFD.
_DOCUMENT_SUFFIXES = (
    ".docx", ".docm", ".dotx", ".xlsx", ".xlsm", ".pptx", ".wps", ".et", ".dps", ".odt", ".ods",
    ".odp", ".ofd",
)  # fmt: skip
# A package's own index file gives it away when the name does not ("稿件" with no suffix).
_DOCUMENT_INDEXES = frozenset({"[Content_Types].xml", "mimetype", "OFD.xml"})


@dataclass(frozen=True)
class Expanded:
    """The regular files found in an archive (nested archives flattened) and what went wrong."""

    files: tuple[FileEntry, ...] = ()
    problems: tuple[Problem, ...] = ()


class _Reader(Protocol):
    damage: str

    def listing(self) -> list[Listed]: ...

    def read(
        self, chosen: Sequence[Listed], *, limits: Limits, budget: Budget
    ) -> Iterator[tuple[Listed, bytes | Failure]]: ...


def is_archive(data: bytes) -> bool:
    """Whether the bytes start like a zip, 7z or RAR archive (a .docx does too: check names first)."""
    return _format(data) is not None


def rar_backend_available() -> bool:
    """Whether rarfile finds a tool to decompress RAR members (unrar, unar, 7z or bsdtar)."""
    try:
        rarfile.tool_setup()
    except rarfile.RarCannotExec:
        return False
    return True


def expand(entry: FileEntry, *, limits: Limits, rar: bool = True) -> Expanded:
    """Expand one archive; `rar=False` when no RAR backend is installed (see rar_backend_available).

    A zip-based document handed in by mistake (表格.xlsx, or a .docx) comes back whole as the one file.
    """
    if _is_document(entry.path, entry.data, limits):
        return Expanded(files=(entry,))
    walk = _Walk(limits=limits, rar=rar)
    walk.archive(entry.path, entry.data, depth=1)
    return Expanded(files=tuple(walk.files), problems=tuple(walk.problems))


def _format(data: bytes) -> Format | None:
    return next((fmt for magic, fmt in _MAGIC if data.startswith(magic)), None)


def _is_document(path: str, data: bytes, limits: Limits) -> bool:
    if path.lower().endswith(_DOCUMENT_SUFFIXES):
        return True
    if _format(data) != "zip" or declared_entries(data) > MAX_ENTRIES_FACTOR * limits.max_archive_members:
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            return not _DOCUMENT_INDEXES.isdisjoint(package.namelist())
    except (zipfile.BadZipFile, NotImplementedError, UnicodeDecodeError, ValueError, OSError):
        return False


class _Walk:
    """One expansion: the files and problems found so far, and the bytes left to decompress."""

    def __init__(self, *, limits: Limits, rar: bool) -> None:
        self.limits = limits
        self.rar = rar
        self.budget = Budget(limits.max_total_bytes)
        self.files: list[FileEntry] = []
        self.problems: list[Problem] = []

    def archive(self, where: str, data: bytes, *, depth: int) -> None:
        try:
            self._archive(where, data, depth=depth)
        except ArchiveFailedError as fault:
            self.problems.append(problem(fault.code, source=where, name=where, detail=fault.detail))
        except Exception:  # noqa: BLE001
            # zipfile, py7zr and rarfile raise assorted exceptions (struct.error, IndexError,
            # AssertionError…) on crafted input; any of them means this archive cannot be read.
            detail = "文件已损坏或不完整"
            self.problems.append(problem(Code.UNREADABLE_ARCHIVE, source=where, name=where, detail=detail))

    def _archive(self, where: str, data: bytes, *, depth: int) -> None:
        reader = self._open(data)
        chosen, problems = plan(
            reader.listing(), where=where, size=len(data), limits=self.limits, budget=self.budget
        )
        self.problems.extend(problems)
        if reader.damage:
            self.problems.append(
                problem(Code.UNREADABLE_ARCHIVE, source=where, name=where, detail=reader.damage)
            )
        for member, got in reader.read(chosen, limits=self.limits, budget=self.budget):
            path = f"{where}/{member.path}"
            if isinstance(got, Failure):
                source = where if got.fatal else path
                self.problems.append(problem(got.code, source=source, name=where, detail=got.detail))
                if got.fatal:
                    return
            elif _format(got) is None or _is_document(member.path, got, self.limits):
                self.files.append(FileEntry(path=path, data=got))
            elif depth >= self.limits.max_depth:
                detail = f"压缩层级超过 {self.limits.max_depth} 层"
                self.problems.append(
                    problem(Code.ARCHIVE_LIMITS_EXCEEDED, source=path, name=path, detail=detail)
                )
            else:
                self.archive(path, got, depth=depth + 1)

    def _open(self, data: bytes) -> _Reader:
        fmt = _format(data)
        if fmt == "zip":
            return ZipReader(data, limits=self.limits)
        if fmt == "7z":
            return SevenZipReader(data, limits=self.limits)
        if fmt == "rar" and self.rar:
            return RarReader(data, limits=self.limits)
        if fmt == "rar":
            raise ArchiveFailedError(Code.UNSUPPORTED_FORMAT, NO_BACKEND)
        raise ArchiveFailedError(Code.UNREADABLE_ARCHIVE, "不是 zip、7z 或 RAR 格式的压缩包")
