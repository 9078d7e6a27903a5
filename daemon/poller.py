"""One pass over the mailbox, like Mailman's runner: take each message, dispose of it, commit, then
tell the server. `xinbao poll` runs one pass; the daemon runs one every poll interval.

Order of a pass: fetch new mail (raw bytes stored, rows `fetched`); process every `fetched` row
(parsing in guard workers, recording one transaction per message); acknowledge on the server what
is committed; queue the daily digests; flush the outbox.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from daemon import ledger, replies
from daemon.config import Config
from daemon.db import session
from daemon.failpoints import failpoint
from daemon.intake import Intake
from daemon.mailbox import Mailbox, MailboxError
from daemon.models import Message, MessageState
from daemon.pipeline import Analysis, Pipeline, RetryLaterError
from outbox.relay import Relay

log = logging.getLogger(__name__)

# Rows whose server-side flag or move is still owed, once committed.
_TO_ACKNOWLEDGE = (MessageState.RECORDED, MessageState.REJECTED, MessageState.IGNORED)
# The office hears about a broken mailbox after this many failed passes in a row, once per outage.
ALERT_AFTER_FAILURES = 5


@dataclass
class PassReport:
    """What one pass did, for the CLI summary and `status`."""

    fetched: int = 0
    too_large: int = 0
    states: Counter[str] = field(default_factory=Counter)
    acknowledged: int = 0
    sent: int = 0
    failed_sends: int = 0
    error: str | None = None


@dataclass
class Poller:
    config: Config
    engine: Engine
    intake: Intake
    pipeline: Pipeline
    mailbox: Mailbox | None
    relay: Relay | None
    clock: Callable[[], datetime]
    workers: int = 1
    # Called with (done, total) while processing, for a progress bar.
    progress: Callable[[int, int], None] | None = None
    # Set by SIGTERM: the pass finishes the message in hand and returns.
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def account(self) -> str:
        return self.config.mailbox.user

    @property
    def folder(self) -> str:
        return self.config.mailbox.folder

    def run_pass(self) -> PassReport:
        """One pass; a database that is locked, full or restarting ends it early, losing nothing:
        whatever was not committed is fetched or processed again next time."""
        report = PassReport()
        try:
            self._run(report)
        except SQLAlchemyError as exc:
            report.error = f"database unavailable: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            log.error("pass stopped: %s", report.error)
        return report

    def _run(self, report: PassReport) -> None:
        uidvalidity = None
        if self.mailbox is not None:
            try:
                uidvalidity = self._fetch_new(report)
            except MailboxError as exc:
                report.error = str(exc)
                log.error("polling %s failed: %s", self.mailbox.where, exc)
                self._record_failure(str(exc))
        self._process_fetched(report)
        if self.mailbox is not None and uidvalidity is not None and report.error is None:
            try:
                self._acknowledge(uidvalidity, report)
                self._record_success()
            except MailboxError as exc:
                report.error = str(exc)
                log.error("acknowledging on %s failed: %s", self.mailbox.where, exc)
                self._record_failure(str(exc))
        with session(self.engine) as s:
            replies.queue_unverified_digests(s, self.config, now=self.clock())
        if self.relay is not None:
            # Flush the whole outbox: a backlog's receipts should not wait a poll interval per 50.
            while not self.stop.is_set():
                sent = self.relay.run_once()
                report.sent += sent.sent
                report.failed_sends += sent.failed
                if sent.stopped or sent.claimed == 0 or sent.sent + sent.failed + sent.retried == 0:
                    break

    def _fetch_new(self, report: PassReport) -> int:
        assert self.mailbox is not None
        uidvalidity = self.mailbox.ensure_open()
        with session(self.engine) as s:
            cursor = ledger.get_or_create_poll_state(s, self.account, self.folder)
            if cursor.uidvalidity != uidvalidity:
                if cursor.uidvalidity is not None:
                    # RFC 3501 2.3.1.1: UIDs of the old validity mean nothing now; rescan all, and
                    # let the content hash keep what was already counted from being counted again.
                    log.warning(
                        "UIDVALIDITY of %s changed %s -> %s; rescanning",
                        self.mailbox.where,
                        cursor.uidvalidity,
                        uidvalidity,
                    )
                cursor.uidvalidity, cursor.last_uid = uidvalidity, 0
            last_uid = cursor.last_uid
        refs = self.mailbox.new_messages(last_uid)
        limit = self.config.limits.max_message_bytes
        big = [r for r in refs if r.size > limit]
        if big:
            heads = self.mailbox.fetch_headers([r.uid for r in big])
            for r in big:
                self.intake.store_too_large(
                    account=self.account,
                    folder=self.folder,
                    uidvalidity=uidvalidity,
                    uid=r.uid,
                    size=r.size,
                    head=heads.get(r.uid, b""),
                    internaldate=r.internaldate,
                )
                report.too_large += 1
        for fetched in self.mailbox.fetch([r.uid for r in refs if r.size <= limit]):
            if self.stop.is_set():
                break
            self.intake.store_fetched(
                account=self.account,
                folder=self.folder,
                uidvalidity=uidvalidity,
                uid=fetched.uid,
                raw=fetched.raw,
                internaldate=fetched.internaldate,
            )
            report.fetched += 1
        return uidvalidity

    def _pending(self) -> list[int]:
        with session(self.engine, readonly=True) as s:
            stmt = select(Message.id).where(Message.state == MessageState.FETCHED).order_by(col(Message.id))
            return [i for i in s.exec(stmt).all() if i is not None]

    def _process_fetched(self, report: PassReport) -> None:
        rows = self._pending()
        if not rows:
            return
        # Parsing runs in guard workers (both cores); recording stays serial, in this thread.
        with ThreadPoolExecutor(max_workers=max(1, self.workers)) as pool:
            for done, (row_id, future) in enumerate(self._parse_ahead(pool, rows), 1):
                try:
                    analysis = future.result() if future is not None else None
                    if analysis is not None:
                        state = self.pipeline.record(row_id, analysis.parsed, analysis.verdict)
                        if state is not None:
                            failpoint("recorded_committed")
                            report.states[state.value] += 1
                except RetryLaterError as exc:
                    log.warning("message row %s: %s; retrying next pass", row_id, exc)
                    self.pipeline.fail(row_id, str(exc))
                    report.states["retry"] += 1
                except SQLAlchemyError:
                    raise  # the database, not the message: the whole pass stops and retries later
                except Exception as exc:  # one bad message must never stop the queue
                    log.exception("processing message row %s failed", row_id)
                    self.pipeline.fail(row_id, f"{type(exc).__name__}: {exc}")
                    report.states["failed"] += 1
                if self.progress is not None:
                    self.progress(done, len(rows))

    def _parse_ahead(
        self, pool: ThreadPoolExecutor, rows: list[int]
    ) -> Iterator[tuple[int, Future[Analysis] | None]]:
        """Claim and submit a few rows ahead of the one being recorded, keeping the workers busy."""
        window: list[tuple[int, Future[Analysis] | None]] = []
        for row_id in rows:
            if self.stop.is_set():
                break
            raw = self.pipeline.claim(row_id)
            window.append((row_id, pool.submit(self.pipeline.analyse, raw) if raw is not None else None))
            if len(window) > self.workers:
                yield window.pop(0)
        yield from window

    def _acknowledge(self, uidvalidity: int, report: PassReport) -> None:
        assert self.mailbox is not None
        with session(self.engine, readonly=True) as s:
            rows = s.exec(
                select(Message.id, Message.uid).where(
                    Message.account == self.account,
                    Message.folder == self.folder,
                    Message.uidvalidity == uidvalidity,
                    col(Message.server_done).is_(False),
                    col(Message.state).in_(_TO_ACKNOWLEDGE),
                )
            ).all()
        if not rows:
            return
        self.mailbox.acknowledge([uid for _, uid in rows])
        failpoint("server_acknowledged")
        with session(self.engine) as s:
            for row_id, _ in rows:
                msg = s.get(Message, row_id)
                if msg is None:
                    continue
                msg.server_done = True
                if msg.state == MessageState.RECORDED:
                    msg.state = MessageState.ACKNOWLEDGED
                msg.updated_at = self.clock()
        report.acknowledged = len(rows)

    def _record_success(self) -> None:
        with session(self.engine) as s:
            cursor = ledger.get_or_create_poll_state(s, self.account, self.folder)
            cursor.last_success_at = self.clock()
            cursor.consecutive_failures = 0
            cursor.last_error = None

    def _record_failure(self, error: str) -> None:
        with session(self.engine) as s:
            cursor = ledger.get_or_create_poll_state(s, self.account, self.folder)
            cursor.consecutive_failures += 1
            cursor.last_error = error[:2000]
            if cursor.consecutive_failures == ALERT_AFTER_FAILURES:
                since = cursor.last_success_at.isoformat() if cursor.last_success_at else "never"
                replies.alert_office(
                    s,
                    self.config,
                    topic=f"polling|{since}",
                    title="报送邮箱连续多次无法连接",
                    text=f"系统已连续 {ALERT_AFTER_FAILURES} 次无法读取报送邮箱，新来稿暂时无法处理。请检查邮箱授权码是否过期、IMAP 服务是否开启。",
                    details=[f"错误：{error}"],
                    now=self.clock(),
                )
