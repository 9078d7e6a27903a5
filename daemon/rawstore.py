"""Raw mail on disk, content-addressed by SHA-256: written durably before anything else happens to it.

Layout: `root/ab/cd/abcd…` (two fan-out levels keep directories small). A file appears under its
final name only complete: it is written to a temporary name in the same directory, fsynced,
renamed over (atomic on POSIX), and the directory is fsynced so the rename itself survives a crash
(once per batch: `put_many`).
Temporary names start with a dot and are never valid digests, so readers never see them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
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
        return self.put_many([(raw, meta)])[0]

    def put_many(self, items: Sequence[tuple[bytes, dict[str, Any] | None]]) -> list[str]:
        """Store several messages durably at once and return their digests, in order.

        Each file is fsynced before its rename, and each directory once after all renames: a batch
        of 20 costs ~21 fsyncs of files and a few of directories instead of ~6 fsyncs a message.
        Nothing is durable until this returns, so callers commit rows only afterwards.
        """
        digests: list[str] = []
        dirty: set[Path] = set()
        for raw, meta in items:
            sha = hashlib.sha256(raw).hexdigest()
            digests.append(sha)
            final = self.path(sha)
            if not final.exists():
                self._write(final, raw, dirty)
            if meta is not None and not self.meta_path(sha).exists():
                data = json.dumps(meta, ensure_ascii=False, sort_keys=True).encode()
                self._write(self.meta_path(sha), data, dirty)
        # Deepest first: a file's directory entry, then the entries of directories made for it.
        for directory in sorted(dirty, key=lambda d: len(d.parts), reverse=True):
            _fsync_dir(directory)
        return digests

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

    def _write(self, final: Path, data: bytes, dirty: set[Path]) -> None:
        """Write, fsync and rename into place; the directories to fsync afterwards go to `dirty`."""
        self._makedirs(final.parent, dirty)
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
        dirty.add(final.parent)

    def get(self, sha256: str) -> bytes:
        """The stored bytes; FileNotFoundError if absent, CorruptRawError if they do not match."""
        data = self.path(sha256).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise CorruptRawError(f"raw message {sha256} does not match its digest")
        return data

    def has(self, sha256: str) -> bool:
        """Whether the message is stored (complete: partial writes never carry a digest name)."""
        return self.path(sha256).is_file()

    def _makedirs(self, directory: Path, dirty: set[Path]) -> None:
        # Create top-down; each parent gains an entry, so it is fsynced with the batch.
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
            dirty.add(d.parent)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
