"""Shared pieces of the archive readers: member listings, name checks, limits and the byte budget.

A reader (zipreader, sevenzipreader, rarreader) lists members as `Listed` records; `plan` decides
which of them are read, before a single byte is decompressed; the reader then reads the chosen
members through `read_capped`, so that sizes an archive declares falsely are still bounded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from parsers.types import Code, Limits, Problem, problem

CHUNK = 1024 * 1024
# The compression ratio is only held against members above this size: a small text or XML file
# legitimately compresses 50-500 times (a blank 100 KB bitmap even more), and a small member cannot
# hurt us whatever its ratio. Above 1 MiB a ratio over `Limits.max_ratio` means a bomb.
RATIO_FLOOR = 1024 * 1024

# Operating-system litter that archivers add next to the user's files: never reported.
_JUNK_NAMES = frozenset({"thumbs.db", "desktop.ini", ".ds_store"})
_OWNER_FILE = re.compile(r"^~\$.*\.(docx?|wps)$", re.IGNORECASE)
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Bidi overrides and isolates are dropped from paths: “照片\u202egpj.exe” would show as “照片exe.jpg”.
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class Kind(Enum):
    FILE = "file"
    DIR = "dir"
    LINK = "link"


@dataclass(frozen=True)
class Listed:
    """One member as the archive lists it, before anything is read."""

    name: str
    size: int
    # Declared compressed size; None when the format does not tell it per member (solid 7z).
    packed: int | None
    kind: Kind
    encrypted: bool
    # What the reader needs to read it back (a ZipInfo, a RarInfo, a 7z member name).
    handle: object = field(compare=False, repr=False)
    # Set by `plan`: the cleaned member path ("稿件/标题.docx").
    path: str = ""


@dataclass(frozen=True)
class Failure:
    """A member that could not be read; `fatal` when the rest of the archive is lost with it."""

    code: Code
    detail: str
    fatal: bool = False


class ArchiveFailedError(Exception):
    """The archive as a whole cannot be read; raised by readers, turned into a Problem by expand."""

    def __init__(self, code: Code, detail: str = "") -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


class Budget:
    """Bytes left to decompress for one top-level archive, shared by every nesting level."""

    def __init__(self, total: int) -> None:
        self.left = total


class Stream(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


def read_capped(stream: Stream, cap: int) -> bytes | None:
    """Read a member in chunks; None as soon as it exceeds `cap`, whatever size was declared."""
    buf = bytearray()
    while chunk := stream.read(CHUNK):
        buf += chunk
        if len(buf) > cap:
            return None
    return bytes(buf)


def member_cap(limits: Limits, budget: Budget) -> int:
    return min(limits.max_member_bytes, budget.left)


def over_cap(path: str, *, limits: Limits, budget: Budget, fatal: bool = False) -> Failure:
    """The failure for a member whose real size passed its cap while being read."""
    if budget.left < limits.max_member_bytes:
        return Failure(Code.ARCHIVE_LIMITS_EXCEEDED, f"解压后超过 {size_text(limits.max_total_bytes)}", True)
    detail = f"其中的“{path}”解压后超过 {size_text(limits.max_member_bytes)}"
    return Failure(Code.ARCHIVE_LIMITS_EXCEEDED, detail, fatal)


def decode_legacy(raw: bytes) -> str:
    """A member name stored without a declared encoding: UTF-8 when valid, else GB18030.

    Chinese Windows archivers (WinRAR, 7-Zip, Explorer, 360压缩) write the ANSI code page, GBK;
    macOS and Linux tools write UTF-8 without setting the flag. GB18030 is a superset of GBK and
    decodes any byte string, so a Japanese CP932 name comes out as wrong but harmless Chinese.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


def size_text(n: int) -> str:
    """A limit as the sender reads it: "300 MB" (limits are whole megabytes in practice)."""
    if n >= 1024 * 1024:
        return f"{n // (1024 * 1024)} MB"
    return f"{n // 1024} KB" if n >= 1024 else f"{n} 字节"


def _is_junk(parts: Sequence[str]) -> bool:
    base = parts[-1]
    return (
        "__MACOSX" in parts
        or base.startswith("._")
        or base.lower() in _JUNK_NAMES
        or _OWNER_FILE.match(base) is not None
    )


def _unsafe(name: str) -> str | None:
    """Why a (backslash-normalised) member name is unsafe, or None."""
    if _CONTROL.search(name):
        return "文件名含有控制字符"
    if name.startswith("/") or _DRIVE.match(name):
        return "是绝对路径"
    if ".." in name.split("/"):
        return "含有“..”上级目录"
    return None


def plan(
    listing: Sequence[Listed], *, where: str, size: int, limits: Limits, budget: Budget
) -> tuple[list[Listed], list[Problem]]:
    """Choose the members to read and report the rest, from declared sizes only.

    Duplicate paths keep the first member: a sender never means two different files by one name,
    and which one an unzip tool keeps varies (the second would overwrite, or prompt).
    """
    wanted = [(m, parts) for m in listing if (parts := _parts(m)) is not None]
    if len(wanted) > limits.max_archive_members:
        detail = f"包含 {len(wanted)} 个文件，超过 {limits.max_archive_members} 个的上限"
        return [], [problem(Code.ARCHIVE_LIMITS_EXCEEDED, source=where, name=where, detail=detail)]
    chosen: list[Listed] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    encrypted = False
    for m, parts in wanted:
        name = m.name.replace("\\", "/")
        reason = _unsafe(name) or ("是符号链接（快捷方式）" if m.kind is Kind.LINK else None)
        if reason:
            # Control characters would travel into the reply mail and the JSON output.
            shown = _BIDI.sub("", _CONTROL.sub("\N{REPLACEMENT CHARACTER}", f"{where}/{name}"))
            problems.append(problem(Code.UNSAFE_PATH, source=shown, name=shown, detail=reason))
            continue
        path = "/".join(parts)
        if path in seen:
            continue
        seen.add(path)
        detail = "" if m.encrypted else _member_limit(m, path, limits)
        if detail:
            source = f"{where}/{path}"
            problems.append(problem(Code.ARCHIVE_LIMITS_EXCEEDED, source=source, name=where, detail=detail))
        elif m.encrypted:
            encrypted = True
        else:
            chosen.append(Listed(m.name, m.size, m.packed, m.kind, False, m.handle, path))
    if encrypted:
        problems.append(problem(Code.ENCRYPTED_ARCHIVE, source=where, name=where))
    whole = _archive_limit(sum(m.size for m in chosen), size, limits, budget)
    if whole:
        return [], [*problems, problem(Code.ARCHIVE_LIMITS_EXCEEDED, source=where, name=where, detail=whole)]
    return chosen, problems


def _parts(m: Listed) -> list[str] | None:
    """The path components of a member worth looking at; None for directories and litter."""
    name = _BIDI.sub("", m.name.replace("\\", "/"))
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if m.kind is Kind.DIR or name.endswith("/") or not parts or _is_junk(parts):
        return None
    return parts


def _member_limit(m: Listed, path: str, limits: Limits) -> str:
    if m.size > limits.max_member_bytes:
        return f"其中的“{path}”解压后超过 {size_text(limits.max_member_bytes)}"
    packed = m.size if m.packed is None else m.packed
    if m.size > RATIO_FLOOR and m.size > limits.max_ratio * max(packed, 1):
        return f"其中的“{path}”压缩比超过 {limits.max_ratio:.0f} 倍，疑似压缩炸弹"
    return ""


def _archive_limit(total: int, size: int, limits: Limits, budget: Budget) -> str:
    if total > budget.left:
        return f"解压后超过 {size_text(limits.max_total_bytes)}"
    # Members below the ratio floor can still add up to a bomb (many 1 MB members of zeros).
    if total > RATIO_FLOOR and total > limits.max_ratio * max(size, 1):
        return f"压缩比超过 {limits.max_ratio:.0f} 倍，疑似压缩炸弹"
    return ""
