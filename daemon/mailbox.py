"""The IMAP edge: one facade over imapclient that reads the bureau mailbox and marks what is done.

Tests put a 163-like proxy in front of Dovecot through one seam, `connect` (IMAPClient's
constructor by default). Server quirks are handled by capability first, never by server name.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from imapclient import DELETED, SEEN, IMAPClient, SocketTimeout

from daemon.config import MailboxConfig

log = logging.getLogger(__name__)
T = TypeVar("T")
Sleep = Callable[[float], None]

CLIENT_ID = {"name": "xinbao", "version": "0.1", "vendor": "xinbao"}
# RFC 2177: servers may drop an IDLE after 30 minutes, so it is re-issued before that.
IDLE_RENEW_SECONDS = 28 * 60
# How often an IDLE wait looks at the stop event.
STOP_CHECK_SECONDS = 1.0
# A fetched batch is held in memory whole: twenty 40 MB messages must not make an 800 MB batch.
BATCH_BYTES = 64 * 1024 * 1024


class MailboxError(Exception):
    """An IMAP failure, worded for the operator's log; not `retryable` when only they can fix it."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class MailRef:
    """A message seen in the folder, before its bytes are fetched."""

    uid: int
    size: int
    internaldate: datetime  # aware: the moment the mailbox received it


@dataclass(frozen=True)
class Fetched:
    """A message's exact raw bytes, fetched whole without setting \\Seen."""

    uid: int
    raw: bytes
    internaldate: datetime


def _text(exc: BaseException) -> str:
    """One readable line: imaplib puts the server's bytes in args, imapclient's LoginError a repr."""
    arg = exc.args[0] if exc.args else None
    text = arg.decode("utf-8", "replace") if isinstance(arg, bytes) else str(exc) or type(exc).__name__
    quoted = re.fullmatch(r"b'(.*)'", text)
    return quoted.group(1) if quoted else text


def with_retry(
    fn: Callable[[], T],
    *,
    attempts: int = 5,
    base_delay: float = 1.0,
    max_delay: float = 300.0,
    sleep: Sleep = time.sleep,
) -> T:
    """Call `fn` until it succeeds, sleeping base_delay, 2×, 4×… (capped) between MailboxErrors;
    a non-retryable MailboxError, or the last attempt's, is raised as it is."""
    delay = base_delay
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except MailboxError as exc:
            if not exc.retryable or attempt == attempts:
                raise
            log.warning("%s; retrying in %.0f s (attempt %d of %d)", exc, delay, attempt, attempts)
            sleep(delay)
            delay = min(delay * 2, max_delay)
    raise AssertionError("unreachable")


class Mailbox:
    """One IMAP connection to the configured folder; every method may raise MailboxError."""

    def __init__(
        self,
        cfg: MailboxConfig,
        *,
        password: str,
        connect: Callable[..., IMAPClient] | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.cfg = cfg
        self._password = password
        self._connect = connect or IMAPClient
        self._sleep = sleep
        self._client: IMAPClient | None = None
        self.uidvalidity: int | None = None
        self._keywords_allowed = False

    @property
    def where(self) -> str:
        """The folder, account and server, for log lines."""
        return f"{self.cfg.folder} of {self.cfg.user} on {self.cfg.host}:{self.cfg.port}"

    def open(self) -> int:
        """Connect, LOGIN, ID, SELECT the folder; returns its UIDVALIDITY."""
        self.close()
        cfg = self.cfg
        with self._guard("connect"):
            timeout = SocketTimeout(connect=cfg.timeout_seconds, read=cfg.timeout_seconds)
            self._client = client = self._connect(cfg.host, port=cfg.port, ssl=cfg.tls, timeout=timeout)
            client.normalise_times = False  # INTERNALDATE keeps the server's UTC offset
            # imapclient sets imaplib's debug level to 5, at which imaplib formats the repr of every
            # untagged response, literal bodies included, for its log: 8x the cost of a FETCH of
            # big mail (benchmarks/, docs/performance.md). The log is not read; turn it off.
            client._imap.debug = 0
        refused = f"IMAP server {cfg.host} refused the login of {cfg.user} (for 163 the password is the"
        with self._guard("LOGIN", refused=f"{refused} authorization code 授权码, and IMAP must be on)"):
            client.login(cfg.user, self._password)
        with self._guard("ID"):
            # 163 refuses SELECT ("Unsafe Login") until the client has identified itself with the
            # RFC 2971 ID command; a server that does not advertise ID is not sent it.
            if cfg.send_id and client.has_capability("ID"):
                client.id_({**CLIENT_ID, "support-email": cfg.user})
        refused = f"IMAP server {cfg.host} refused folder {cfg.folder!r} of {cfg.user}"
        with self._guard("SELECT", refused=f"{refused} (163's Unsafe Login means: set send_id = true)"):
            selected = client.select_folder(cfg.folder)
        self.uidvalidity = int(selected[b"UIDVALIDITY"])
        # RFC 3501 7.1: "\*" in PERMANENTFLAGS means new keywords may be created; without a
        # PERMANENTFLAGS response, only the flags in FLAGS can be stored.
        permanent = {f.lower() for f in selected.get(b"PERMANENTFLAGS", selected.get(b"FLAGS", ()))}
        self._keywords_allowed = b"\\*" in permanent or cfg.keyword.lower().encode() in permanent
        if cfg.mark == "flag" and not self._keywords_allowed:
            log.warning("%s refuses the keyword %s: processed mail gets \\Seen only", self.where, cfg.keyword)
        log.info("Opened %s (UIDVALIDITY %d)", self.where, self.uidvalidity)
        return self.uidvalidity

    def ensure_open(self, *, attempts: int = 5, base_delay: float = 1.0, max_delay: float = 300.0) -> int:
        """The open folder's UIDVALIDITY, reconnecting with capped exponential backoff if needed."""
        if self._client is not None and self.uidvalidity is not None:
            return self.uidvalidity
        return with_retry(
            self.open, attempts=attempts, base_delay=base_delay, max_delay=max_delay, sleep=self._sleep
        )

    def reconnect(self, *, attempts: int = 5, base_delay: float = 1.0, max_delay: float = 300.0) -> int:
        """Drop the connection (if any) and open a new one with backoff."""
        self._drop()
        return self.ensure_open(attempts=attempts, base_delay=base_delay, max_delay=max_delay)

    def close(self) -> None:
        """LOGOUT politely; a dead connection is just dropped."""
        if self._client is not None:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                self._client.logout()
        self._drop()

    def _drop(self) -> None:
        if self._client is not None:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                self._client.shutdown()
        self._client = None
        self.uidvalidity = None

    @contextlib.contextmanager
    def _guard(self, action: str, *, refused: str = "") -> Iterator[None]:
        """Turn imapclient and socket errors into MailboxError and drop the connection.

        After any error the connection state is unknown (half a literal may be unread), so the
        next call must reconnect rather than reuse it. With `refused`, a NO from the server is
        reported with that text and marked not retryable: the operator must act first.
        """
        try:
            yield
        except (OSError, imaplib.IMAP4.error) as exc:
            self._drop()
            if refused and not isinstance(exc, OSError | imaplib.IMAP4.abort):
                raise MailboxError(f"{refused}: {_text(exc)}", retryable=False) from exc
            raise MailboxError(f"IMAP {action} failed on {self.where}: {_text(exc)}") from exc

    def supports_idle(self) -> bool:
        """Whether the open connection advertises IDLE (RFC 2177); 163 does not."""
        client = self._selected()
        with self._guard("CAPABILITY"):
            return bool(client.has_capability("IDLE"))

    def _selected(self) -> IMAPClient:
        if self._client is None:
            raise MailboxError(f"IMAP connection to {self.where} is not open")
        return self._client

    def new_messages(self, last_uid: int) -> list[MailRef]:
        """Messages with a UID above `last_uid`, oldest first, with size and INTERNALDATE.

        Never SEARCH UNSEEN: the office reads this mailbox in webmail, which sets \\Seen. Never
        rely on UIDNEXT either: 163 does not send it.
        """
        client = self._selected()
        with self._guard("UID SEARCH"):
            # A server may answer SEARCH from the session's last view of the folder (Dovecot
            # does); NOOP makes it take in mail that arrived since (RFC 3501 6.1.2).
            client.noop()
            found = client.search(["UID", f"{last_uid + 1}:*"])
        # RFC 3501 6.4.8: "*" is the highest UID in use, so "n:*" past the end still matches the
        # last message; a UID at or below the cursor is not new.
        uids = sorted(u for u in found if u > last_uid)
        if not uids:
            return []
        with self._guard("UID FETCH"):
            data = client.fetch(uids, ["RFC822.SIZE", "INTERNALDATE"])
        return [
            MailRef(uid=u, size=int(data[u][b"RFC822.SIZE"]), internaldate=data[u][b"INTERNALDATE"])
            for u in uids
            if u in data  # expunged in the meantime
        ]

    def fetch(self, uids: Sequence[int]) -> Iterator[Fetched]:
        """The raw bytes of `uids`, whole, in batches of `batch_size`; BODY.PEEK never sets \\Seen."""
        size = max(1, self.cfg.batch_size)
        for start in range(0, len(uids), size):
            yield from self._fetch_batch(list(uids[start : start + size]))

    def fetch_batches(self, refs: Sequence[MailRef]) -> Iterator[list[Fetched]]:
        """The messages of `refs`, a server batch at a time: at most `batch_size` messages and,
        past the first, at most BATCH_BYTES (imapclient holds a whole batch in memory)."""
        batch: list[int] = []
        nbytes = 0
        for ref in refs:
            if batch and (len(batch) >= max(1, self.cfg.batch_size) or nbytes + ref.size > BATCH_BYTES):
                yield list(self._fetch_batch(batch))
                batch, nbytes = [], 0
            batch.append(ref.uid)
            nbytes += ref.size
        if batch:
            yield list(self._fetch_batch(batch))

    def _fetch_batch(self, batch: list[int]) -> Iterator[Fetched]:
        # Items are yielded only after the server completed the batch, so a connection lost
        # halfway raises MailboxError and never yields a truncated message.
        client = self._selected()
        with self._guard("UID FETCH"):
            data = client.fetch(batch, ["BODY.PEEK[]", "INTERNALDATE"])
        for uid in batch:
            item = data.get(uid)
            if item is None or b"BODY[]" not in item:
                log.warning("UID %d vanished from %s before it was fetched", uid, self.where)
                continue
            yield Fetched(uid=uid, raw=bytes(item[b"BODY[]"]), internaldate=item[b"INTERNALDATE"])

    def fetch_headers(self, uids: Sequence[int]) -> dict[int, bytes]:
        """The header section of each message (for mail too large to fetch whole), UID to bytes."""
        heads: dict[int, bytes] = {}
        size = max(1, self.cfg.batch_size)
        for start in range(0, len(uids), size):
            with self._guard("UID FETCH HEADER"):
                data = self._selected().fetch(list(uids[start : start + size]), ["BODY.PEEK[HEADER]"])
            heads.update({u: bytes(d[b"BODY[HEADER]"]) for u, d in data.items() if b"BODY[HEADER]" in d})
        return heads

    def is_done(self, uid: int) -> bool:
        """Whether a message already carries the mark `acknowledge` leaves (gone, in move mode)."""
        with self._guard("UID FETCH FLAGS"):
            flags = {f.lower() for f in self._selected().get_flags([uid]).get(uid, (DELETED,))}
        if self.cfg.mark == "move":
            return DELETED.lower() in flags
        return self._keywords_allowed and self.cfg.keyword.lower().encode() in flags

    def acknowledge(self, uids: Sequence[int]) -> None:
        """Mark processed messages on the server, after the database commit, as cfg.mark says."""
        if uids:
            (self._move if self.cfg.mark == "move" else self._flag)(list(uids))

    def _flag(self, uids: list[int]) -> None:
        flags = [self.cfg.keyword.encode(), SEEN] if self._keywords_allowed else [SEEN]
        client = self._selected()
        with self._guard("UID STORE"):
            client.add_flags(uids, flags, silent=True)

    def _move(self, uids: list[int]) -> None:
        client = self._selected()
        folder = self.cfg.done_folder
        with self._guard(f"CREATE {folder}"):
            # imapclient encodes the folder name in modified UTF-7 (RFC 3501 5.1.3).
            if not client.folder_exists(folder):
                client.create_folder(folder)
        # RFC 6851 MOVE where advertised (163 lacks it); else COPY, \Deleted, then UID EXPUNGE of
        # exactly these UIDs (RFC 4315), so other messages the office marked \Deleted survive.
        if client.has_capability("MOVE"):
            with self._guard(f"UID MOVE to {folder}"):
                client.move(uids, folder)
            return
        with self._guard(f"UID COPY to {folder}"):
            client.copy(uids, folder)
            client.add_flags(uids, [DELETED], silent=True)
        if not client.has_capability("UIDPLUS"):
            # A plain EXPUNGE would also remove messages someone else marked \Deleted.
            log.warning("%s lacks UIDPLUS: copied to %s, marked \\Deleted, not expunged", self.where, folder)
            return
        with self._guard("UID EXPUNGE"):
            client.uid_expunge(uids)

    def idle_or_sleep(self, seconds: float, stop: threading.Event) -> None:
        """Wait up to `seconds`, or until `stop`: in IDLE where advertised (163 lacks it), which
        also ends when the server reports a change; else a plain wait before the next poll."""
        client = self._selected()
        with self._guard("CAPABILITY"):
            can_idle = client.has_capability("IDLE")
        if not can_idle:
            stop.wait(seconds)
            return
        deadline = time.monotonic() + seconds
        while not stop.is_set() and time.monotonic() < deadline:
            renew_at = min(deadline, time.monotonic() + IDLE_RENEW_SECONDS)
            with self._guard("IDLE"):
                client.idle()
                try:
                    changed = self._idle_until(client, renew_at, stop)
                finally:
                    client.idle_done()
            if changed:
                return

    def _idle_until(self, client: IMAPClient, until: float, stop: threading.Event) -> bool:
        while not stop.is_set():
            left = until - time.monotonic()
            if left <= 0:
                return False
            for response in client.idle_check(timeout=min(left, STOP_CHECK_SECONDS)):
                # "* OK Still here" keep-alives carry no news; EXISTS, EXPUNGE and FETCH do.
                if len(response) > 1 and response[1] in (b"EXISTS", b"EXPUNGE", b"FETCH", b"RECENT"):
                    return True
        return False
