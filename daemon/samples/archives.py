"""Zips as Chinese Windows tools make them: GBK names without the UTF-8 flag, folder entries first."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import datetime

from daemon.samples.stamps import _FIXED, DosTime, _dos_time


class _GbkZipInfo(zipfile.ZipInfo):
    # WinRAR and 360压缩 on Chinese Windows write names in the ANSI code page (GBK) with general-purpose
    # bit 11 (UTF-8) clear. zipfile encodes any non-ASCII name as UTF-8 and sets the bit, in both the
    # local and the central header, through this one method; so override it.
    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # noqa: N802 (zipfile's name)
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def make_zip(
    files: Sequence[tuple[str, bytes]], *, gbk_names: bool = True, modified: datetime | None = None
) -> bytes:
    """A zip as Chinese Windows tools make it: GBK names without the UTF-8 flag, folder entries first.

    With `gbk_names=False`, names are UTF-8 with the flag set (7-Zip, Bandizip, macOS).
    """
    stamp = _dos_time(modified or _FIXED)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        seen: set[str] = set()
        for name, data in files:
            parts = name.split("/")
            for depth in range(1, len(parts)):
                folder = "/".join(parts[:depth]) + "/"
                if folder not in seen:
                    seen.add(folder)
                    archive.writestr(_zipinfo(folder, stamp, gbk_names, 0x10), b"")
            # Photos are stored, not deflated, as Bandizip and 360压缩 do with already-compressed files.
            method = zipfile.ZIP_STORED if name.lower().endswith(_STORED) else zipfile.ZIP_DEFLATED
            archive.writestr(_zipinfo(name, stamp, gbk_names, 0x20), data, method)
    return out.getvalue()


_STORED = (".jpg", ".jpeg", ".png", ".zip", ".rar", ".7z")


def _zipinfo(name: str, stamp: DosTime, gbk: bool, dos_attr: int) -> zipfile.ZipInfo:
    info = (_GbkZipInfo if gbk else zipfile.ZipInfo)(name, stamp)
    info.create_system = 0  # MS-DOS: the attributes below are FILE_ATTRIBUTE_DIRECTORY / _ARCHIVE
    info.external_attr = dos_attr
    return info
