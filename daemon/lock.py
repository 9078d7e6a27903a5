"""One process per mailbox: a file lock on SQLite, an advisory lock on PostgreSQL.

`xinbao run` and `xinbao poll` both take it, so two passes never work on the same mailbox at
once; the second waits (a standby daemon) instead of failing.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)


class LockTimeoutError(Exception):
    """Another process held the mailbox lock for longer than we were willing to wait."""


def lock_key(account: str, folder: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock, from the mailbox identity."""
    digest = hashlib.sha256(f"xinbao|{account}|{folder}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def mailbox_lock(
    engine: Engine, *, account: str, folder: str, lock_dir: Path, wait: float | None = None
) -> Iterator[None]:
    """Hold the mailbox lock for the block; wait at most `wait` seconds (None: forever)."""
    if engine.dialect.name == "postgresql":
        with _pg_lock(engine, lock_key(account, folder), wait):
            yield
    else:
        lock_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = hashlib.sha256(f"{account}|{folder}".encode()).hexdigest()[:16]
        with _file_lock(lock_dir / f"mailbox-{name}.lock", wait):
            yield


def _deadline_loop(wait: float | None, attempt: Callable[[], bool]) -> None:
    deadline = None if wait is None else time.monotonic() + wait
    announced = False
    while not attempt():
        if not announced:
            log.info("another xinbao process holds the mailbox lock; waiting")
            announced = True
        if deadline is not None and time.monotonic() >= deadline:
            raise LockTimeoutError("mailbox lock busy")
        time.sleep(0.2)


@contextmanager
def _file_lock(path: Path, wait: float | None) -> Iterator[None]:
    with path.open("a") as handle:
        path.chmod(0o600)

        def attempt() -> bool:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        _deadline_loop(wait, attempt)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _pg_lock(engine: Engine, key: int, wait: float | None) -> Iterator[None]:
    # A session-level advisory lock lives as long as this dedicated connection.
    with engine.connect() as conn:

        def attempt() -> bool:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            conn.commit()
            return bool(got)

        _deadline_loop(wait, attempt)
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()
