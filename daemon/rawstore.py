"""Raw mail on disk, content-addressed by SHA-256: written durably before anything else happens to it.

Layout: `root/ab/cd/abcd…` (two fan-out levels keep directories small). A file appears under its
final name only complete: it is written to a temporary name in the same directory, fsynced,
renamed over (atomic on POSIX), and the directory is fsynced so the rename itself survives a crash.
Temporary names start with a dot and are never valid digests, so readers never see them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_DIGEST = re.compile(r"[0-9a-f]{64}")
_TMP_PREFIX = ".tmp-"


class CorruptRawError(Exception):
    """A stored file whose content no longer matches its name (disk damage or tampering)."""


class RawStore:
    """Immutable raw messages under `root`; files 0600, directories 0700."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """Where the message with this digest lives (whether or not it is stored)."""
        if not _DIGEST.fullmatch(sha256):
            raise ValueError(f"not a lowercase SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, raw: bytes, *, meta: dict[str, Any] | None = None) -> str:
        """Store `raw` durably and return its digest; storing the same bytes again is a no-op.

        `meta` (where and when the mailbox first had it) is kept beside it, also durably, so the
        ledger can be rebuilt from this store alone (`xinbao reprocess`); the first one stays.
        """
        sha = hashlib.sha256(raw).hexdigest()
        final = self.path(sha)
        if not final.exists():
            self._write(final, raw)
        if meta is not None and not self.meta_path(sha).exists():
            self._write(self.meta_path(sha), json.dumps(meta, ensure_ascii=False, sort_keys=True).encode())
        return sha

    def meta_path(self, sha256: str) -> Path:
        return self.path(sha256).with_name(f"{sha256}.json")

    def meta(self, sha256: str) -> dict[str, Any] | None:
        """What `put` recorded about the message, or None."""
        try:
            data = json.loads(self.meta_path(sha256).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def digests(self) -> Iterator[str]:
        """Every stored message's digest (temporary and metadata files are skipped)."""
        for path in sorted(self.root.glob("*/*/*")):
            if _DIGEST.fullmatch(path.name):
                yield path.name

    def _write(self, final: Path, data: bytes) -> None:
        self._makedirs(final.parent)
        fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=_TMP_PREFIX)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(final.parent)

    def get(self, sha256: str) -> bytes:
        """The stored bytes; FileNotFoundError if absent, CorruptRawError if they do not match."""
        data = self.path(sha256).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise CorruptRawError(f"raw message {sha256} does not match its digest")
        return data

    def has(self, sha256: str) -> bool:
        """Whether the message is stored (complete: partial writes never carry a digest name)."""
        return self.path(sha256).is_file()

    def _makedirs(self, directory: Path) -> None:
        # Create top-down, fsyncing each parent so a new directory entry is as durable as the file.
        missing: list[Path] = []
        d = directory
        while not d.is_dir():
            missing.append(d)
            d = d.parent
        for d in reversed(missing):
            try:
                d.mkdir(mode=0o700)
            except FileExistsError:
                continue  # another writer made it first
            d.chmod(0o700)  # mkdir's mode is masked by the umask
            _fsync_dir(d.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
