"""RAR 4 and RAR 5 archives through rarfile, which runs unar (or unrar) for compressed members.

rarfile parses the headers itself; decompression goes through the external tool, which reads a
temporary copy of the archive that rarfile writes and removes. That is the only file I/O in
parsers, and it happens only when the caller says a RAR backend is available.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import Any, cast

import rarfile

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

NO_BACKEND = "服务器无法解压 RAR 格式，请改用 zip 压缩"


class RarReader:
    """Lists and reads one RAR archive held in memory."""

    def __init__(self, data: bytes, *, limits: Limits) -> None:
        try:
            # errors="stop" keeps the members listed before a damaged header; strerror() says why.
            self._rar = rarfile.RarFile(io.BytesIO(data), errors="stop")
        except rarfile.PasswordRequired as e:
            raise ArchiveFailedError(Code.ENCRYPTED_ARCHIVE) from e
        except (rarfile.Error, EOFError, ValueError, OSError) as e:
            raise ArchiveFailedError(Code.UNREADABLE_ARCHIVE, "文件已损坏或不完整") from e
        if self._rar.needs_password() and not self._rar.infolist():
            # Encrypted headers (WinRAR's "encrypt file names"): nothing is listed without the password.
            raise ArchiveFailedError(Code.ENCRYPTED_ARCHIVE)
        self.damage = "文件不完整，部分文件未能读取" if self._rar.strerror() else ""

    def listing(self) -> list[Listed]:
        return [
            Listed(
                name=_name(info),
                size=int(info.file_size or 0),
                packed=int(info.compress_size or 0),
                kind=Kind.DIR if info.is_dir() else Kind.LINK if info.is_symlink() else Kind.FILE,
                encrypted=bool(info.needs_password()),
                handle=info,
            )
            for info in cast(list[Any], self._rar.infolist())
        ]

    def read(
        self, chosen: Sequence[Listed], *, limits: Limits, budget: Budget
    ) -> Iterator[tuple[Listed, bytes | Failure]]:
        for m in chosen:
            try:
                with self._rar.open(m.handle) as stream:
                    data = read_capped(stream, member_cap(limits, budget))
            except rarfile.RarCannotExec:
                yield m, Failure(Code.UNSUPPORTED_FORMAT, NO_BACKEND, fatal=True)
                return
            except rarfile.PasswordRequired:
                yield m, Failure(Code.ENCRYPTED_ARCHIVE, "")
                continue
            except (rarfile.Error, EOFError, ValueError, OSError):
                yield m, Failure(Code.UNREADABLE_ARCHIVE, f"其中的“{m.path}”已损坏")
                continue
            if data is None:
                yield m, over_cap(m.path, limits=limits, budget=budget)
                continue
            budget.left -= len(data)
            yield m, data


def _name(info: Any) -> str:
    """The member name; RAR 4 names without the Unicode flag are in the sender's code page.

    rarfile tries UTF-8 and then UTF-16-LE on those, and nearly any even-length GBK name is valid
    UTF-16-LE, so the raw bytes are decoded again here.
    """
    if isinstance(info, rarfile.Rar3Info) and not info.flags & rarfile.RAR_FILE_UNICODE:
        name = decode_legacy(bytes(info.orig_filename)).replace("\\", "/")
        return name + "/" if info.is_dir() else name
    return str(info.filename)
