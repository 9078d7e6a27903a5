"""In-process mail servers on loopback for `xinbao demo`: pymap (IMAP, in memory) and aiosmtpd (SMTP)."""

from __future__ import annotations

import asyncio
import logging
import threading
from argparse import Namespace
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parseaddr
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from proxyprotocol.reader import ProxyProtocolReader
from pymap.backend.dict import DictBackend
from pymap.backend.dict.filter import FilterSet
from pymap.backend.dict.mailbox import MailboxData, MailboxSet
from pymap.concurrent import Subsystem
from pymap.imap import IMAPServer
from pymap.parsing.message import AppendMessage
from pymap.parsing.specials.flag import Flag
from pysasl.hashing import Cleartext

log = logging.getLogger(__name__)

_START_TIMEOUT = 10.0


class _KeywordMailboxData(MailboxData):
    # pymap's dict mailboxes accept only the system flags and silently drop keywords on STORE
    # (PERMANENTFLAGS has no "\*"); xinbao marks processed mail with a keyword, so allow those.
    keywords: frozenset[Flag] = frozenset()

    @property
    def permanent_flags(self) -> frozenset[Flag]:
        return super().permanent_flags | self.keywords


class _KeywordMailboxSet(MailboxSet):
    def __init__(self, keywords: frozenset[Flag]) -> None:
        super().__init__()
        self._keywords = keywords
        self._inbox = self._new()

    def _new(self) -> MailboxData:
        mbx = _KeywordMailboxData(self._content_cache, self._thread_cache)
        mbx.keywords = self._keywords
        return mbx

    async def add_mailbox(self, name: str) -> Any:
        async with self._set_lock.read_lock():
            if name in self._set:
                raise ValueError(name)
        async with self._set_lock.write_lock():
            self._set[name] = mbx = self._new()
            return mbx.mailbox_id


class EmbeddedIMAP:
    """pymap's in-memory backend on loopback, one user, no TLS, in a thread with its own event loop.

    Supports what xinbao uses: LOGIN, ID, SELECT (UIDVALIDITY, UIDNEXT), UID SEARCH, UID FETCH,
    UID STORE with system flags and the given keywords, APPEND with an internal date, COPY, MOVE.
    """

    def __init__(
        self,
        *,
        user: str,
        password: str,
        host: str = "127.0.0.1",
        port: int = 0,
        keywords: Iterable[str] = ("XinbaoDone",),
    ) -> None:
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self._keywords = frozenset(Flag(k.encode("ascii")) for k in keywords)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._mailboxes: _KeywordMailboxSet | None = None

    def start(self) -> int:
        """Start serving; returns the bound port."""
        if self._thread is not None:
            raise RuntimeError("EmbeddedIMAP already started")
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="embedded-imap", daemon=True)
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT):
            raise TimeoutError("embedded IMAP server did not start")
        if self._error is not None:
            self._thread.join()
            self._thread = None
            raise RuntimeError("embedded IMAP server failed to start") from self._error
        return self.port

    def append(self, raw: bytes, *, internaldate: datetime, folder: str = "INBOX") -> None:
        """Deliver one message, as the provider's MTA would, with the given INTERNALDATE."""
        if self._loop is None:
            raise RuntimeError("EmbeddedIMAP not started")
        future = asyncio.run_coroutine_threadsafe(self._append(raw, internaldate, folder), self._loop)
        future.result(timeout=60.0)

    def stop(self) -> None:
        """Close the listener and every connection; the mailbox contents are gone (a restart starts empty,
        on the same port)."""
        if self._thread is None:
            return
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=30.0)
        self._thread = None
        self._loop = None

    def __enter__(self) -> EmbeddedIMAP:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # noqa: BLE001 (handed to start(), which raises it)
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        # The namespace stands in for pymap's command line (pymap.main); TLS is off on loopback.
        args = Namespace(
            host=self.host,
            port=self.port,
            debug=False,
            cert=None,
            key=None,
            tls=False,
            inherited_sockets=None,
            proxy_protocol=None,
            passlib_cfg=None,
            demo_data=False,
            demo_user=self.user,
            demo_password=self.password,
        )
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedded-imap-cpu")
        try:
            backend, config = await DictBackend.init(
                args,
                invalid_user_sleep=0.0,
                # pymap's default is 500,000 PBKDF2 rounds, 0.3 s per LOGIN; a throw-away loopback
                # password kept in memory needs no hashing.
                hash_context=Cleartext(),
                reject_dnsbl=False,
                cpu_subsystem=Subsystem.for_threading(executor),
            )
            config.apply_context()
            # Pre-seed the user's mailboxes so they accept keywords and exist before the first login.
            self._mailboxes = _KeywordMailboxSet(self._keywords)
            config.set_cache[self.user] = (self._mailboxes, FilterSet())
            # Same wiring as pymap.imap.IMAPService.start, which cannot report an ephemeral port.
            callback = ProxyProtocolReader(config.proxy_protocol).get_callback(
                IMAPServer(backend.login, config)
            )
            server = await asyncio.start_server(callback, host=self.host, port=self.port)
            self.port = server.sockets[0].getsockname()[1]
            log.debug("embedded IMAP listening on %s:%d", self.host, self.port)
            self._ready.set()
            async with server:
                await self._stopping.wait()
        finally:
            executor.shutdown(wait=False, cancel_futures=True)

    async def _append(self, raw: bytes, when: datetime, folder: str) -> None:
        assert self._mailboxes is not None
        try:
            mbx = await self._mailboxes.get_mailbox(folder)
        except KeyError:
            await self._mailboxes.add_mailbox(folder)
            mbx = await self._mailboxes.get_mailbox(folder)
        await mbx.append(AppendMessage(raw, when, frozenset()), recent=True)


@dataclass(frozen=True)
class ReceivedMail:
    """One message the embedded SMTP server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    login: str | None


class _Collector:
    def __init__(self, owner: EmbeddedSMTP) -> None:
        self._owner = owner

    async def handle_MAIL(  # noqa: N802 (aiosmtpd hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        # Enforced here rather than with aiosmtpd's auth_required, which warns whenever TLS is off.
        if self._owner.user is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        # 163 refuses an envelope sender other than the login ("553 Mail from must equal authorized user").
        login = _login_name(session)
        if self._owner.strict_sender and login is not None and address.lower() != login.lower():
            return "553 Mail from must equal authorized user"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or b""
        mail = ReceivedMail(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            data=content,
            login=_login_name(session),
        )
        self._owner._received(mail)
        return "250 Mail OK queued as embedded"


def _login_name(session: Session) -> str | None:
    # EmbeddedSMTP._authenticate hands the login name back as the session's auth_data.
    data = session.auth_data
    return data if isinstance(data, str) else None


class _EphemeralController(Controller):
    def _trigger_server(self) -> None:
        # Controller connects to self.port to wake the server; with port 0, learn the real one first.
        sockets = getattr(self.server, "sockets", None)
        if sockets and self.port == 0:
            self.port = sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class EmbeddedSMTP:
    """aiosmtpd on loopback, keeping every accepted message in memory (thread-safe).

    AUTH PLAIN/LOGIN is offered without TLS (loopback only). With `user` set, a login is required and
    checked; with `strict_sender`, the envelope sender must equal the login, as 163 insists.
    """

    def __init__(
        self,
        *,
        user: str | None = None,
        password: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        strict_sender: bool = False,
    ) -> None:
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.strict_sender = strict_sender
        self._lock = threading.Lock()
        self._messages: list[ReceivedMail] = []
        self._arrived = threading.Condition(self._lock)
        self._controller: _EphemeralController | None = None

    @property
    def messages(self) -> list[ReceivedMail]:
        """A snapshot of the messages received so far, oldest first."""
        with self._lock:
            return list(self._messages)

    def wait_for(self, count: int, *, timeout: float = 10.0) -> list[ReceivedMail]:
        """Block until at least `count` messages arrived (or the timeout passed); returns them."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self._messages) >= count, timeout)
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()

    def start(self) -> int:
        """Start serving; returns the bound port."""
        if self._controller is not None:
            raise RuntimeError("EmbeddedSMTP already started")
        controller = _EphemeralController(
            _Collector(self),
            hostname=self.host,
            port=self.port,
            authenticator=self._authenticate,
            auth_require_tls=False,
            server_hostname="embedded.smtp.local",
            ident="xinbao embedded SMTP",
        )
        controller.start()
        self._controller = controller
        self.port = controller.port
        return self.port

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> EmbeddedSMTP:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _received(self, mail: ReceivedMail) -> None:
        with self._arrived:
            self._messages.append(mail)
            self._arrived.notify_all()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        ok = self.user is None or (
            login == self.user and auth_data.password.decode("utf-8", "replace") == self.password
        )
        # handled=False: on failure aiosmtpd then answers 535 itself (handled=True would leave it silent).
        return AuthResult(success=ok, handled=False, auth_data=login if ok else None)


def provider_stamp(raw: bytes, *, authserv_id: str = "mx.163.com") -> bytes:
    """`raw` as a provider's MX delivers it after checking its DKIM signature: with its own
    Authentication-Results (RFC 8601) on top, passing for the From domain. The embedded and test
    servers stand in for 163's MX, so they stamp what it would."""
    sender = parseaddr(str(BytesHeaderParser(policy=compat32).parsebytes(raw).get("From", "")))[1]
    domain = sender.rpartition("@")[2] or "invalid"
    stamp = (
        f"Authentication-Results: {authserv_id}; dkim=pass header.d={domain}; dmarc=pass header.from={domain}"
    )
    return stamp.encode() + b"\r\n" + raw
