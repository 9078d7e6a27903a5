"""Raw mail on disk, content-addressed by SHA-256: written durably before anything else happens to it.

Layout: `root/ab/cd/abcd…` (two fan-out levels keep directories small). A file appears under its
final name only complete: it is written to a temporary name in the same directory, fsynced,
renamed over (atomic on POSIX), and the directory is fsynced so the rename itself survives a crash
(once per batch: `put_many`).
Temporary names start with a dot and are never valid digests, so readers never see them.
Where and when the mailbox had each message goes to `root/journal/`, one JSON-lines file per batch
(one fsync for the batch, not one per message); stores written before keep a `<digest>.json` beside
each message, which is still read first.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

_DIGEST = re.compile(r"[0-9a-f]{64}")
_TMP_PREFIX = ".tmp-"
_JOURNAL = "journal"
_JOURNAL_NAME = re.compile(r"[0-9]{20}-[0-9a-f]{16}\.jsonl")
_SHA = "sha256"


class CorruptRawError(Exception):
    """A stored file whose content no longer matches its name (disk damage or tampering)."""


class RawStore:
    """Immutable raw messages under `root`; files 0600, directories 0700."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._journal = self.root / _JOURNAL
        self._index: dict[str, dict[str, Any]] = {}  # digest -> its first metadata
        self._read: set[str] = set()  # journal files already in the index

    def path(self, sha256: str) -> Path:
        """Where the message with this digest lives (whether or not it is stored)."""
        if not _DIGEST.fullmatch(sha256):
            raise ValueError(f"not a lowercase SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, raw: bytes, *, meta: dict[str, Any] | None = None) -> str:
        """Store `raw` durably and return its digest; storing the same bytes again is a no-op.

        `meta` (where and when the mailbox first had it) is kept too, also durably, so the ledger
        can be rebuilt from this store alone (`xinbao reprocess`); the first one stays.
        """
        return self.put_many([(raw, meta)])[0]

    def put_many(self, items: Sequence[tuple[bytes, dict[str, Any] | None]]) -> list[str]:
        """Store several messages durably at once and return their digests, in order.

        Each file is fsynced before its rename, the batch's metadata is one journal file, and each
        directory is fsynced once after all renames: a batch of 20 costs ~21 fsyncs of files and a
        few of directories. Nothing is durable until this returns, so callers commit rows only
        afterwards.
        """
        digests: list[str] = []
        dirty: set[Path] = set()
        lines: list[bytes] = []
        for raw, meta in items:
            sha = hashlib.sha256(raw).hexdigest()
            digests.append(sha)
            final = self.path(sha)
            if not final.exists():
                self._write(final, raw, dirty)
            if meta is not None:
                lines.append(json.dumps({**meta, _SHA: sha}, ensure_ascii=False, sort_keys=True).encode())
        if lines:
            data = b"\n".join(lines) + b"\n"
            # Named by time, so the index reads journals in the order they were written and the
            # first metadata of a digest stays; the content hash keeps two writers apart.
            name = f"{time.time_ns():020d}-{hashlib.sha256(data).hexdigest()[:16]}.jsonl"
            self._write(self._journal / name, data, dirty)
        # Deepest first: a file's directory entry, then the entries of directories made for it.
        for directory in sorted(dirty, key=lambda d: len(d.parts), reverse=True):
            _fsync_dir(directory)
        return digests

    def meta_path(self, sha256: str) -> Path:
        """Where a store written before the journal keeps one message's metadata."""
        return self.path(sha256).with_name(f"{sha256}.json")

    def meta(self, sha256: str) -> dict[str, Any] | None:
        """What `put` recorded about the message, or None."""
        try:
            data = json.loads(self.meta_path(sha256).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            data = None
        if isinstance(data, dict):
            return data
        if sha256 not in self._index:
            self._read_journals()
        return self._index.get(sha256)

    def journals(self) -> list[Path]:
        """The metadata journal files, oldest first."""
        try:
            names = sorted(p.name for p in self._journal.iterdir() if _JOURNAL_NAME.fullmatch(p.name))
        except FileNotFoundError:
            return []
        return [self._journal / n for n in names]

    def _read_journals(self) -> None:
        """Add the journals not read yet to the index; a digest keeps its first metadata."""
        for path in self.journals():
            if path.name in self._read:
                continue
            for line in path.read_bytes().splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                sha = entry.pop(_SHA, None) if isinstance(entry, dict) else None
                if isinstance(sha, str):
                    self._index.setdefault(sha, entry)
            self._read.add(path.name)

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
