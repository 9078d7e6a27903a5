"""The raw-mail store: what the mailbox handed us is on disk, whole, before anything else happens."""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import pytest

from daemon import rawstore
from daemon.rawstore import CorruptRawError, RawStore

MAIL = "From: 王强 <wangqiang.wh@163.com>\r\nSubject: 汛期值班信息\r\n\r\n请查收。\r\n".encode()
SHA = hashlib.sha256(MAIL).hexdigest()


def test_a_stored_mail_reads_back_byte_for_byte(tmp_path: Path) -> None:
    """put returns the SHA-256 of the bytes; get returns exactly those bytes."""
    store = RawStore(tmp_path / "raw")
    assert not store.has(SHA)
    assert store.put(MAIL) == SHA
    assert store.has(SHA)
    assert store.get(SHA) == MAIL


def test_files_fan_out_by_digest_prefix(tmp_path: Path) -> None:
    """Two levels of two hex digits keep a year of mail out of one huge directory."""
    store = RawStore(tmp_path)
    store.put(MAIL)
    assert store.path(SHA) == tmp_path / SHA[:2] / SHA[2:4] / SHA
    assert store.path(SHA).read_bytes() == MAIL


def test_storing_the_same_mail_twice_is_a_no_op(tmp_path: Path) -> None:
    """A message fetched again after a crash (or forwarded twice) is kept once."""
    store = RawStore(tmp_path)
    store.put(MAIL)
    first = store.path(SHA).stat()
    assert store.put(MAIL) == SHA
    again = store.path(SHA).stat()
    assert (again.st_ino, again.st_mtime_ns) == (first.st_ino, first.st_mtime_ns)
    assert os.listdir(store.path(SHA).parent) == [SHA]


def test_mail_is_private_to_the_daemon_user(tmp_path: Path) -> None:
    """Submissions carry phone numbers and names: files 0600, every directory made 0700."""
    old = os.umask(0o022)
    try:
        store = RawStore(tmp_path / "var" / "raw")
        store.put(MAIL)
    finally:
        os.umask(old)
    path = store.path(SHA)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for d in (path.parent, path.parent.parent, tmp_path / "var" / "raw", tmp_path / "var"):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d


def test_a_write_cut_short_by_a_crash_is_invisible(tmp_path: Path) -> None:
    """A half-written temporary file left by a crash is neither found nor read, and a retry works."""
    store = RawStore(tmp_path)
    final = store.path(SHA)
    final.parent.mkdir(parents=True)
    (final.parent / ".tmp-crashed").write_bytes(MAIL[:10])
    assert not store.has(SHA)
    with pytest.raises(FileNotFoundError):
        store.get(SHA)
    assert store.put(MAIL) == SHA
    assert store.get(SHA) == MAIL


def test_a_failed_rename_leaves_no_file_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the rename fails (disk full, I/O error) the message is absent and no temporary remains."""
    store = RawStore(tmp_path)

    def fail(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="No space"):
        store.put(MAIL)
    assert not store.has(SHA)
    assert os.listdir(store.path(SHA).parent) == []


def test_a_damaged_file_is_reported_not_returned(tmp_path: Path) -> None:
    """Bytes that no longer hash to their name are an error, never a silently different message."""
    store = RawStore(tmp_path)
    store.put(MAIL)
    store.path(SHA).write_bytes(MAIL.replace("值班".encode(), "值守".encode()))
    with pytest.raises(CorruptRawError):
        store.get(SHA)


@pytest.mark.parametrize("name", ["../../etc/passwd", "AB" * 32, "ab" * 31, ""])
def test_only_digests_name_files(tmp_path: Path, name: str) -> None:
    """A name that is not a lowercase SHA-256 digest is refused before it touches the disk."""
    with pytest.raises(ValueError, match="SHA-256"):
        RawStore(tmp_path).has(name)


def test_a_fetched_batch_is_stored_whole_with_one_fsync_per_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty drafts of a batch (one sent twice): every file and its metadata stored, digests in
    order, and each directory that gained an entry fsynced once, after all the renames."""
    store = RawStore(tmp_path)
    synced: list[Path] = []
    real = rawstore._fsync_dir
    monkeypatch.setattr(rawstore, "_fsync_dir", lambda d: (synced.append(d), real(d)))
    mails = [MAIL.replace("值班".encode(), f"值班{i}".encode()) for i in range(19)] + [MAIL]
    digests = store.put_many([(m, {"uid": i}) for i, m in enumerate(mails)] + [(MAIL, {"uid": 99})])
    assert digests == [hashlib.sha256(m).hexdigest() for m in mails] + [SHA]
    for m, d in zip(mails, digests[:-1], strict=True):
        assert store.get(d) == m
    assert store.meta(SHA) == {"uid": 19}  # the first metadata stays
    assert [p.suffix for p in store.journals()] == [".jsonl"]  # the batch's metadata: one file
    assert len(synced) == len(set(synced))
    assert {store.path(d).parent for d in digests} <= set(synced)
    assert tmp_path in synced


def test_a_disk_error_on_one_file_of_a_batch_leaves_no_temporary_or_open_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fails while one mail of a batch is flushed (EIO): the caller hears of it before
    committing anything, that mail is absent, and no temporary name or open file is left behind."""
    store = RawStore(tmp_path)
    mails = [MAIL.replace("值班".encode(), f"值班{i}".encode()) for i in range(8)]
    bad = hashlib.sha256(mails[3]).hexdigest()
    real = os.fsync
    names: dict[int, str] = {}
    real_mkstemp = tempfile.mkstemp

    def mkstemp(**kw: Any) -> tuple[int, str]:
        fd, name = real_mkstemp(**kw)
        names[fd] = name
        return fd, name

    def fsync(fd: int) -> None:
        if Path(names.get(fd, "")).parent == store.path(bad).parent and fd in names:
            raise OSError(5, "Input/output error")
        real(fd)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(os, "fsync", fsync)
    open_before = len(os.listdir("/proc/self/fd"))
    with pytest.raises(OSError, match="Input/output"):
        store.put_many([(m, {"uid": i}) for i, m in enumerate(mails)])
    assert len(os.listdir("/proc/self/fd")) == open_before
    assert not store.has(bad)
    assert [p.name for p in tmp_path.rglob(".tmp-*")] == []


def test_each_batch_journals_its_metadata_in_one_durable_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty mails of a batch are twenty files fsynced and one journal of where the mailbox had
    them, not twenty more; a mail fetched again in a later batch keeps its first metadata, also for
    a store opened afresh (`xinbao reprocess` after a restart)."""
    store = RawStore(tmp_path)
    files: list[int] = []
    real = os.fsync
    monkeypatch.setattr(
        os, "fsync", lambda fd: (stat.S_ISREG(os.fstat(fd).st_mode) and files.append(fd), real(fd))
    )
    mails = [MAIL.replace("值班".encode(), f"值班{i}".encode()) for i in range(20)]
    digests = store.put_many([(m, {"uid": i, "folder": "INBOX"}) for i, m in enumerate(mails)])
    monkeypatch.setattr(os, "fsync", real)
    assert len(files) == 20 + 1
    store.put_many([(mails[0], {"uid": 500, "folder": "INBOX"}), (MAIL, {"uid": 501, "folder": "收件箱"})])
    assert len(store.journals()) == 2
    reopened = RawStore(tmp_path)
    assert reopened.meta(digests[0]) == {"uid": 0, "folder": "INBOX"}
    assert reopened.meta(SHA) == {"uid": 501, "folder": "收件箱"}
    assert reopened.meta(hashlib.sha256(b"never stored").hexdigest()) is None
    assert set(reopened.digests()) == {*digests, SHA}


def test_a_store_written_before_the_journal_keeps_its_metadata_files(tmp_path: Path) -> None:
    """A bureau upgrading xinbao keeps the `<digest>.json` written beside each mail before: it is
    still read, and wins over a journal entry written later for the same mail."""
    store = RawStore(tmp_path)
    store.put(MAIL)
    store.meta_path(SHA).write_text('{"uid": 7, "folder": "INBOX"}', encoding="utf-8")
    store.put(MAIL, meta={"uid": 8, "folder": "INBOX"})
    assert RawStore(tmp_path).meta(SHA) == {"uid": 7, "folder": "INBOX"}
