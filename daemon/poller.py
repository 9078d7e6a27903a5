"""One pass over the mailbox, like Mailman's runner: take each message, dispose of it, commit, then
tell the server. `xinbao poll` runs one pass; the daemon runs one every poll interval.

Order of a pass: fetch new mail (raw bytes stored, rows `fetched`, a batch per commit); process
every `fetched` row (parsing in guard workers, recording one transaction per message); acknowledge
on the server what is committed; queue the daily digests; flush the outbox. Three threads overlap
the stages without changing that order for any one message: the fetch thread stores batches and
hands their bytes over (daemon.handoff), this thread claims, parses and records, and the relay
thread sends the replies already committed.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from daemon import ledger, replies
from daemon.config import Config
from daemon.db import session
from daemon.failpoints import failpoint
from daemon.handoff import Handoff
from daemon.intake import Intake
from daemon.mailbox import Mailbox, MailboxError
from daemon.models import Message, MessageState
from daemon.pipeline import Analysis, Pipeline, RetryLaterError
from daemon.readahead import read_ahead
from outbox.relay import Relay

log = logging.getLogger(__name__)

# Rows whose server-side flag or move is still owed, once committed.
_TO_ACKNOWLEDGE = (MessageState.RECORDED, MessageState.REJECTED, MessageState.IGNORED)
# The office hears about a broken mailbox after this many failed passes in a row, once per outage.
ALERT_AFTER_FAILURES = 5
# Fetched bytes held in memory ahead of the parse (a message larger than this still passes, alone).
FETCH_AHEAD_BYTES = 96 * 1024 * 1024
# Rows claimed (their attempt counted) in one commit, beyond one per parse worker.
CLAIM_GROUP = 8
# The relay thread sends what is queued every this many recorded messages, on one SMTP connection.
RELAY_EVERY = 20
# Messages recorded per commit at most (fewer when the next parse is not ready yet).
RECORD_GROUP = 10


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
    # Per pass: messages expected (for the progress bar) and the relay thread's state.
    _expected: int = field(default=0, init=False)
    _relay_wake: threading.Event = field(default_factory=threading.Event, init=False)
    _relay_stopped: bool = field(default=False, init=False)

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
        self._expected = 0
        self._relay_stopped = False
        self._relay_wake.clear()
        try:
            self._run(report)
        except SQLAlchemyError as exc:
            report.error = f"database unavailable: {type(exc).__name__}: {str(exc).splitlines()[0]}"
            log.error("pass stopped: %s", report.error)
        return report

    def _run(self, report: PassReport) -> None:
        # Rows a crash or an earlier failure left `fetched` go first; the fetch thread adds to the
        # ledger only after this list is taken, so nothing is processed twice.
        stale = self._pending()
        self._expected = len(stale)
        feed: Handoff | None = None
        fetched: list[int] = []  # the UIDVALIDITY the fetch thread saw, once it succeeded
        fetcher: threading.Thread | None = None
        if self.mailbox is not None:
            feed = Handoff(FETCH_AHEAD_BYTES)
            fetcher = threading.Thread(
                target=self._fetch_thread, args=(feed, report, fetched), name="xinbao-fetch", daemon=True
            )
            fetcher.start()
        relay_done = threading.Event()
        relay_thread: threading.Thread | None = None
        if self.relay is not None:
            relay_thread = threading.Thread(
                target=self._relay_thread, args=(relay_done, report), name="xinbao-relay", daemon=True
            )
            relay_thread.start()
        try:
            self._process(report, stale, feed)
        finally:
            if feed is not None:
                feed.abandon()
            if fetcher is not None:
                fetcher.join()
            relay_done.set()
            self._relay_wake.set()
            if relay_thread is not None:
                relay_thread.join()
        if feed is not None:
            feed.raise_error()
        uidvalidity = fetched[0] if fetched else None
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
        if self.relay is not None and not self._relay_stopped:
            # Flush the whole outbox: a backlog's receipts should not wait a poll interval per 50.
            while not self.stop.is_set() and self._relay_round(report):
                pass

    def _relay_round(self, report: PassReport) -> bool:
        """One relay run; whether another could send more."""
        assert self.relay is not None
        sent = self.relay.run_once()
        report.sent += sent.sent
        report.failed_sends += sent.failed
        if sent.stopped:
            self._relay_stopped = True
        return not (sent.stopped or sent.claimed == 0 or sent.sent + sent.failed + sent.retried == 0)

    def _relay_thread(self, done: threading.Event, report: PassReport) -> None:
        """Send receipts while the pass is still recording, a few dozen per SMTP connection."""
        try:
            while not self.stop.is_set():
                self._relay_wake.wait()
                self._relay_wake.clear()
                if done.is_set() or self._relay_stopped:
                    return
                self._relay_round(report)
        except Exception:  # the flush after the pass tries again and reports
            log.exception("sending replies during the pass failed")

    def _fetch_thread(self, feed: Handoff, report: PassReport, fetched: list[int]) -> None:
        assert self.mailbox is not None
        try:
            try:
                fetched.append(self._fetch_new(report, feed))
            except MailboxError as exc:
                report.error = str(exc)
                log.error("polling %s failed: %s", self.mailbox.where, exc)
                self._record_failure(str(exc))
        except BaseException as exc:  # noqa: BLE001 -- the database, or a bug: raised again in the pass's thread
            feed.close(exc)
            return
        feed.close()

    def _fetch_new(self, report: PassReport, feed: Handoff) -> int:
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
        wanted = [r for r in refs if r.size <= limit]
        self._expected += len(wanted)
        # The next batch comes over the socket while this one is written and fsynced.
        with read_ahead(self.mailbox.fetch_batches(wanted), name="xinbao-imap") as batches:
            for batch in batches:
                if self.stop.is_set():
                    break
                rows = self.intake.store_batch(
                    account=self.account,
                    folder=self.folder,
                    uidvalidity=uidvalidity,
                    batch=[(f.uid, f.raw, f.internaldate) for f in batch],
                )
                report.fetched += len(batch)
                # A UID stored before (crash after the commit, before the flag) is `fetched` only
                # if it was in this pass's stale list, or done: either way not handed over again.
                new = [(row_id, f.raw) for (row_id, fresh), f in zip(rows, batch, strict=True) if fresh]
                if not feed.put(new):
                    break
        return uidvalidity

    def _pending(self) -> list[int]:
        with session(self.engine, readonly=True) as s:
            stmt = select(Message.id).where(Message.state == MessageState.FETCHED).order_by(col(Message.id))
            return [i for i in s.exec(stmt).all() if i is not None]

    def _process(self, report: PassReport, stale: list[int], feed: Handoff | None) -> None:
        # Parsing runs in guard workers (both cores); recording stays serial, in this thread, a few
        # messages per commit (each in its own savepoint): every commit is an fsync that waits
        # behind the raw store's writes on the same disk.
        source = _Source(stale, feed)
        done = 0
        group = _Group(self)
        try:
            with ThreadPoolExecutor(max_workers=max(1, self.workers)) as pool:
                for row_id, size, future in self._parse_ahead(pool, source, group.commit):
                    if future is not None and not future.done():
                        group.commit()  # never hold the write lock while waiting for a parse
                    try:
                        self._record(row_id, future, report, group.session)
                    finally:
                        if feed is not None and size:
                            feed.release(size)
                    group.count += 1
                    if group.count >= RECORD_GROUP:
                        group.commit()
                    done += 1
                    if self.progress is not None:
                        self.progress(done, max(done, self._expected))
                group.commit()
        finally:
            group.close()

    def _record(self, row_id: int, future: Future[Analysis] | None, report: PassReport, s: Session) -> None:
        try:
            analysis = future.result() if future is not None else None
            if analysis is not None:
                state = self.pipeline.record(row_id, analysis.parsed, analysis.verdict, s=s)
                if state is not None:
                    report.states[state.value] += 1
        except RetryLaterError as exc:
            log.warning("message row %s: %s; retrying next pass", row_id, exc)
            self.pipeline.fail(row_id, str(exc), s=s)
            report.states["retry"] += 1
        except SQLAlchemyError:
            raise  # the database, not the message: the whole pass stops and retries later
        except Exception as exc:  # one bad message must never stop the queue
            log.exception("processing message row %s failed", row_id)
            self.pipeline.fail(row_id, f"{type(exc).__name__}: {exc}", s=s)
            report.states["failed"] += 1

    def _parse_ahead(
        self, pool: ThreadPoolExecutor, source: _Source, before_claim: Callable[[], None]
    ) -> Iterator[tuple[int, int, Future[Analysis] | None]]:
        """Keep the workers busy ahead of the row being recorded: whenever no more than `workers`
        rows are in flight, claim up to CLAIM_GROUP more in one commit and submit them."""
        window: deque[tuple[int, int, Future[Analysis] | None]] = deque()
        exhausted = False
        while True:
            if not exhausted and len(window) <= self.workers and not self.stop.is_set():
                if not window:
                    before_claim()  # about to wait for the fetch thread, which needs the write lock
                group = source.take(self.workers + CLAIM_GROUP - len(window), wait=not window)
                if group is None:
                    exhausted = True
                elif group:
                    before_claim()
                    self._submit(pool, group, window)
            if not window:
                if exhausted or self.stop.is_set():
                    return
                continue
            yield window.popleft()

    def _submit(
        self,
        pool: ThreadPoolExecutor,
        group: list[tuple[int, bytes | None]],
        window: deque[tuple[int, int, Future[Analysis] | None]],
    ) -> None:
        claimed = self.pipeline.claim_many([row_id for row_id, _ in group])
        for row_id, raw in group:
            size = len(raw) if raw is not None else 0
            sha = claimed.get(row_id)
            future = pool.submit(self._analyse, raw, sha) if sha is not None else None
            window.append((row_id, size, future))

    def _analyse(self, raw: bytes | None, sha: str) -> Analysis:
        # Bytes not in hand (a row from an earlier pass) are read back, and checked, here.
        return self.pipeline.analyse(raw if raw is not None else self.pipeline.store.get(sha))

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


class _Group:
    """The open transaction of a group of recorded messages; `commit` makes them count."""

    def __init__(self, poller: Poller) -> None:
        self._poller = poller
        self.session = Session(poller.engine, expire_on_commit=False)
        self.count = 0
        self._since_relay = 0

    def commit(self) -> None:
        if not self.count:
            return
        self.session.commit()
        # A fresh identity map per group, as a session per message had: nothing read stays cached.
        self.session.expunge_all()
        failpoint("recorded_committed")
        self._since_relay += self.count
        self.count = 0
        if self._since_relay >= RELAY_EVERY:
            self._since_relay = 0
            self._poller._relay_wake.set()

    def close(self) -> None:
        self.session.rollback()
        self.session.close()


class _Source:
    """What a pass processes, in order: the stale rows (bytes on disk), then the fetch thread's."""

    def __init__(self, stale: list[int], feed: Handoff | None) -> None:
        self._stale = deque(stale)
        self._feed = feed

    def take(self, most: int, *, wait: bool) -> list[tuple[int, bytes | None]] | None:
        """Up to `most` rows, waiting for one only if `wait`; None when there will be no more."""
        if self._stale:
            return [(self._stale.popleft(), None) for _ in range(min(most, len(self._stale)))]
        if self._feed is None:
            return None
        got = self._feed.take(most, wait=wait)
        return None if got is None else [(row_id, raw) for row_id, raw in got]
