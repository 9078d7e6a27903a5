"""A loopback SMTP server (aiosmtpd) that records what it receives and fails on demand like 163.

Like GNU Mailman's testing/mta.py: a queue of faults the next deliveries meet. `Fault.TEMPORARY`
answers DATA with 451, `Fault.SPAM` with 163's `554 DT:SPM` refusal, `Fault.DROP` closes the
connection after the message data and before any reply; `Fault.AUTH` makes every login of the
next connection fail with 535 (smtplib tries PLAIN, then LOGIN, in one connection);
`Fault.SENDER` answers the next MAIL FROM with 163's 553. As on 163, MAIL FROM must equal the
login, and mail without AUTH is refused with 530.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import threading
from collections import deque
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from shutil import which
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from daemon.config import SmtpConfig

LOGIN = "pjyjjbgs@163.com"
PASSWORD = "XBAUTHCODE2025"  # a 163 authorization code (授权码), not the web password
SPAM_REPLY = (
    "554 DT:SPM 163 smtp10,DsCowACnJ0qLw1Vo8PMBAw--.25383S2 1750383243,"
    "please see http://mail.163.com/help/help_spam_16.htm?ip=127.0.0.1&hostid=smtp10"
)


class Fault(Enum):
    TEMPORARY = "451 4.3.0 MI:DMC 163 smtp10, system busy, try again later"
    SPAM = SPAM_REPLY
    DROP = "drop"
    AUTH = "535 Error: authentication failed"
    SENDER = "553 Mail from must equal authorized user"


@dataclass(frozen=True)
class Received:
    """One accepted delivery: the envelope and the exact bytes of the message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes


class Handler:
    """aiosmtpd hooks: record deliveries, apply queued faults."""

    def __init__(self, *, login: str, password: str) -> None:
        self.login = login
        self.password = password
        self.received: list[Received] = []
        self.connections_refused_auth = 0
        self._faults: deque[Fault] = deque()
        self._auth_faults = 0
        self._sender_faults = 0
        self._lock = threading.Lock()

    def fail_next(self, fault: Fault, times: int = 1) -> None:
        with self._lock:
            if fault is Fault.AUTH:
                self._auth_faults += times
            elif fault is Fault.SENDER:
                self._sender_faults += times
            else:
                self._faults.extend([fault] * times)

    def authenticator(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        # One decision per connection, so both of smtplib's attempts (PLAIN, LOGIN) fail together.
        if not hasattr(session, "xinbao_refuse"):
            with self._lock:
                session.xinbao_refuse = self._auth_faults > 0
                if session.xinbao_refuse:
                    self._auth_faults -= 1
                    self.connections_refused_auth += 1
        ok = (
            not session.xinbao_refuse
            and isinstance(data, LoginPassword)
            and data.login.decode() == self.login
            and data.password.decode() == self.password
        )
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    async def handle_MAIL(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, mail_options: list[str]
    ) -> str:
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        with self._lock:
            refuse = self._sender_faults > 0
            if refuse:
                self._sender_faults -= 1
        if refuse or address != session.auth_data.login.decode():
            # 163: the envelope sender must be the account that logged in.
            return Fault.SENDER.value
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (hook name)
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
        if fault is Fault.DROP:
            server.transport.close()
            # The connection is gone; aiosmtpd cancels this coroutine when it notices.
            await asyncio.sleep(3600)
        if fault is not None:
            return fault.value
        raw = envelope.original_content
        with self._lock:
            self.received.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), raw))
        return "250 Mail OK queued as smtp10,DsCowACnJ0qLw1Vo8PMBAw--.25383S2"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpServer:
    """The server on 127.0.0.1, started and stopped as a context manager."""

    def __init__(
        self, *, login: str = LOGIN, password: str = PASSWORD, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.handler = Handler(login=login, password=password)
        self.host = "127.0.0.1"
        self.port = free_port()
        self.tls = ssl_context is not None
        self._controller = Controller(
            self.handler,
            hostname=self.host,
            port=self.port,
            ssl_context=ssl_context,
            authenticator=self.handler.authenticator,
            # AUTH is checked in handle_MAIL (530), not by aiosmtpd, whose auth_required without
            # TLS warns; plaintext AUTH is fine on loopback.
            auth_required=False,
            auth_require_tls=False,
        )

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def fail_next(self, fault: Fault, times: int = 1) -> None:
        self.handler.fail_next(fault, times)

    def config(self, **overrides: Any) -> SmtpConfig:
        values: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "tls": self.tls,
            "user": self.handler.login,
            "timeout_seconds": 10.0,
        }
        values.update(overrides)
        return SmtpConfig(**values)


def self_signed(tmp: Path) -> tuple[ssl.SSLContext, ssl.SSLContext] | None:
    """Server and client SSL contexts for a throw-away certificate; None without `openssl`."""
    openssl = which("openssl")
    if openssl is None:
        return None
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client
