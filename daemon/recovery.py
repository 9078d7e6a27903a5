"""Backup and rebuild: `xinbao backup DIR` and `xinbao reprocess`.

A backup is the database first (SQLite's online backup API, or pg_dump), then the raw store.
The raw store only ever grows and its files never change, so every raw file the database
snapshot refers to is already on disk when it is copied: the pair is consistent without
stopping the daemon.

`reprocess` rebuilds the ledger's submissions and problems from the stored raw mail with today's
parsers and config, sending nothing: messages the database lost are re-created from the raw
store's metadata; adoptions, office entries and solicitation answers (with their numbers and
grades) follow their draft (same message, same file) to its new row.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from daemon.config import Config
from daemon.db import session
from daemon.models import (
    Adoption,
    Message,
    MessageState,
    ProblemRecord,
    Submission,
    SubmissionAuthor,
    SubmissionStatus,
)
from daemon.models_scoring import Entry, SolicitationResponse
from daemon.office_mail import COMMAND
from daemon.pipeline import Pipeline
from daemon.rawstore import RawStore
from parsers.authresults import Verdict

log = logging.getLogger(__name__)


class RecoveryError(Exception):
    """A backup or rebuild that cannot go on; `str()` is the Chinese message for the office."""


@dataclass(frozen=True)
class BackupReport:
    database: Path
    raw_files: int


def backup(config: Config, engine: Engine, target: Path, *, now: datetime) -> BackupReport:
    """A consistent copy of the database and the raw store under `target` (which must be new)."""
    if target.exists() and any(target.iterdir()):
        raise RecoveryError(f"备份目录 {target} 不是空目录")
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    url = engine.url
    if url.get_backend_name() == "sqlite":
        db_copy = target / "xinbao.db"
        source = sqlite3.connect(str(url.database))
        dest = sqlite3.connect(str(db_copy))
        try:
            with dest:
                source.backup(dest)
        finally:
            source.close()
            dest.close()
    else:
        db_copy = target / "xinbao.pgdump"
        pg_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
        done = subprocess.run(
            ["pg_dump", "--format=custom", f"--file={db_copy}", pg_url],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RecoveryError(f"pg_dump 失败：{done.stderr.strip()}")
    db_copy.chmod(0o600)
    raw = RawStore(config.resolve(config.database.raw_store))
    copied = 0
    for sha in raw.digests():
        _copy_raw(raw, raw.path(sha), target / "raw")
        if raw.meta_path(sha).exists():  # written before the journal
            _copy_raw(raw, raw.meta_path(sha), target / "raw")
        copied += 1
    for journal in raw.journals():
        _copy_raw(raw, journal, target / "raw")
    manifest = {"created_at": now.isoformat(), "database": db_copy.name, "raw_messages": copied}
    (target / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return BackupReport(database=db_copy, raw_files=copied)


def _copy_raw(raw: RawStore, src: Path, into: Path) -> None:
    """Copy one file of the raw store to the same place under `into`."""
    dst = into / src.relative_to(raw.root)
    dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    shutil.copy2(src, dst)


@dataclass(frozen=True)
class ReprocessReport:
    messages: int
    restored: int
    submissions: int
    adoptions_moved: int


def reprocess(pipeline: Pipeline, *, progress: Callable[[int, int], None] | None = None) -> ReprocessReport:
    """Rebuild submissions and problems of every message from its raw bytes; queue no mail."""
    if not pipeline.quiet:
        raise RecoveryError("reprocess must not answer senders again: use a quiet pipeline")
    engine, store, clock = pipeline.engine, pipeline.store, pipeline.clock
    restored = _restore_missing_messages(engine, store, clock)
    with session(engine) as s:
        # Where each adopted (or office-scored) draft was: (raw message, file in it), to find its
        # new row afterwards.
        refs: list[tuple[Any, int | None, str, str]] = []
        for model in _REFERRERS:
            rows = s.exec(
                select(model.id, Message.sha256, Submission.source)
                .where(model.submission_id == Submission.id)
                .where(Submission.message_row_id == Message.id)
            )
            refs += [(model, row_id, sha, source) for row_id, sha, source in rows]
        s.exec(delete(SubmissionAuthor))
        s.exec(delete(ProblemRecord))
        for sub in s.exec(select(Submission)):
            sub.replaces_id = None
            # Adopted rows stay until their adoption moves; meanwhile they must not look like an
            # earlier copy of the same draft (find_duplicate looks for accepted ones).
            sub.status = SubmissionStatus.REPLACED
        s.flush()
        s.exec(delete(Submission).where(_unreferenced()))
        old = set(s.exec(select(Submission.id)).all())
        ids = [m.id for m in s.exec(select(Message).order_by(col(Message.internaldate), col(Message.id)))]
        # Senders are not verified again (DKIM keys rotate, DNS may be down): what failed then, still fails.
        doubted = set(
            s.exec(select(Message.id).where(col(Message.outcome).in_(["held", "forged_office"]))).all()
        )
        for m in s.exec(select(Message).where(col(Message.state) != MessageState.POISON)):
            # An office command mail keeps its outcome: the pipeline then records it without
            # carrying the command out a second time.
            m.state, m.attempts = MessageState.FETCHED, 0
            m.outcome = COMMAND if m.outcome == COMMAND else None
    for done, row_id in enumerate(ids, 1):
        assert row_id is not None
        raw = pipeline.claim(row_id)
        if raw is not None:
            verdict = (
                Verdict(False, "recorded", "not verified when first processed") if row_id in doubted else None
            )
            pipeline.record(row_id, pipeline.parse(raw), verdict)
        if progress is not None:
            progress(done, len(ids))
    moved = _remap(engine, refs, old)
    with session(engine) as s:
        # Server flags were set when the mail first came; rebuilt rows need nothing from the server.
        for m in s.exec(select(Message).where(Message.state == MessageState.RECORDED)):
            m.state = MessageState.ACKNOWLEDGED if m.server_done else m.state
        total = len(s.exec(select(Submission.id)).all())
    return ReprocessReport(messages=len(ids), restored=restored, submissions=total, adoptions_moved=moved)


def _restore_missing_messages(engine: Engine, store: RawStore, clock: Callable[[], datetime]) -> int:
    """Message rows for raw files the database does not know (a database restored from an older backup)."""
    restored = 0
    with session(engine) as s:
        known = set(s.exec(select(Message.sha256)).all())
        for sha in store.digests():
            meta = store.meta(sha)
            if sha in known or meta is None:
                continue
            now = clock()
            s.add(
                Message(
                    account=meta["account"],
                    folder=meta["folder"],
                    uidvalidity=meta["uidvalidity"],
                    uid=meta["uid"],
                    sha256=sha,
                    size=int(meta.get("too_large") or store.path(sha).stat().st_size),
                    internaldate=datetime.fromisoformat(meta["internaldate"]),
                    state=MessageState.FETCHED,
                    server_done=True,
                    created_at=now,
                    updated_at=now,
                )
            )
            restored += 1
    return restored


# Rows that point at a submission and must follow their draft to its rebuilt row.
_REFERRERS: tuple[type[Adoption] | type[Entry] | type[SolicitationResponse], ...] = (
    Adoption,
    Entry,
    SolicitationResponse,
)


def _unreferenced() -> Any:
    clause: Any = col(Submission.id).is_not(None)
    for model in _REFERRERS:
        clause = clause & col(Submission.id).not_in(
            select(model.submission_id).where(col(model.submission_id).is_not(None))
        )
    return clause


def _remap(engine: Engine, refs: list[tuple[Any, int | None, str, str]], old: set[int | None]) -> int:
    moved = 0
    with session(engine) as s:
        for model, row_id, sha, source in refs:
            new = s.exec(
                select(Submission)
                .join(Message, col(Message.id) == Submission.message_row_id)
                .where(Message.sha256 == sha, Submission.source == source, col(Submission.id).not_in(old))
                .order_by(col(Submission.id).desc())
            ).first()
            row = s.get(model, row_id)
            if row is None:  # an answer merged into another one already
                continue
            if new is None:
                log.warning(
                    "%s %s: its draft is gone after reprocessing; kept on the old row", model.__name__, row_id
                )
                continue
            if row.submission_id != new.id:
                if isinstance(row, SolicitationResponse) and not _keeps(s, row, new.id):
                    continue
                row.submission_id = new.id
                moved += 1
        s.flush()
        # Old rows nothing points at any more go; one kept because its draft vanished stays.
        s.exec(delete(Submission).where(_unreferenced(), col(Submission.id).in_(old)))
    return moved


def _keeps(s: Session, answer: SolicitationResponse, submission_id: int | None) -> bool:
    """Whether `answer` may follow its draft to `submission_id`. Rebuilding the draft linked it to
    its solicitation again as a new, ungraded answer (and a rebuild killed halfway may have left
    one more): of the answers the draft would then have, the graded one, else the oldest, stays,
    with its number (the office's grading mails name it); the other goes."""
    other = s.exec(
        select(SolicitationResponse).where(
            SolicitationResponse.solicitation_id == answer.solicitation_id,
            SolicitationResponse.submission_id == submission_id,
            SolicitationResponse.id != answer.id,
        )
    ).first()
    if other is None:
        return True
    loser = max(answer, other, key=_graded_then_oldest)
    s.delete(loser)
    s.flush()  # before the kept one takes the draft: (solicitation, submission) is unique
    return loser is not answer


def _graded_then_oldest(answer: SolicitationResponse) -> tuple[bool, int]:
    return (answer.grade is None, answer.id or 0)
