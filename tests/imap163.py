"""A loopback TCP proxy that makes a Dovecot behave like imap.163.com, with faults to switch on.

What 163 does, and the proxy therefore does:
- a SELECT or EXAMINE before the client sent the RFC 2971 ID command is refused with
  ``NO SELECT Unsafe Login. Please contact kefu@188.com for help``;
- no IDLE, no MOVE (both are cut from every capability list and refused as commands) and no
  ``* OK [UIDNEXT n]`` line in the SELECT response.
Faults: reset the connection after N bytes that follow a FETCH, or answer a command with an
unsolicited ``* BYE`` and close. Rewriting is line by line and steps over IMAP literals
(``{n}`` at the end of a line), so message bodies pass byte for byte.
"""

from __future__ import annotations

import contextlib
import re
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import pytest

from tests.dovecot import DovecotServer

UNSAFE_LOGIN = b"NO SELECT Unsafe Login. Please contact kefu@188.com for help"
_LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n$")
_CAPABILITY_CODE = re.compile(rb"\[CAPABILITY ([^\]]*)\]", re.IGNORECASE)
_UIDNEXT = re.compile(rb"^\* OK \[UIDNEXT \d+\]", re.IGNORECASE)
_CHUNK = 64 * 1024


@dataclass
class Faults:
    """One-shot faults: each fires once, on whichever connection meets it first, then disarms."""

    # Reset (TCP RST) the client connection after this many server bytes following a FETCH.
    reset_after_fetch_bytes: int | None = None
    # Answer the next command with this name (e.g. "UID SEARCH") with "* BYE" and close.
    bye_on_command: str | None = None


@dataclass
class Imap163Proxy:
    """Listens on 127.0.0.1; every accepted connection is piped to the upstream Dovecot."""

    upstream_port: int
    upstream_host: str = "127.0.0.1"
    # Capabilities the server does not have; 163 lacks IDLE and MOVE.
    strip: frozenset[str] = frozenset({"IDLE", "MOVE"})
    require_id: bool = True
    faults: Faults = field(default_factory=Faults)
    # Command names clients sent, e.g. "LOGIN", "ID", "UID FETCH" (arguments are not kept).
    commands: list[str] = field(default_factory=list)
    port: int = 0
    _listener: socket.socket | None = None
    _sockets: list[socket.socket] = field(default_factory=list)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Imap163Proxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._spawn(self._accept_loop)

    def close(self) -> None:
        if self._listener is not None:
            # shutdown() wakes the accept() blocked in the other thread.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
        for s in sockets:
            _hard_close(s)
        for t in self._threads:
            t.join(timeout=5)

    def _spawn(self, target: Callable[[], object]) -> None:
        thread = threading.Thread(target=target, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection((self.upstream_host, self.upstream_port), timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            # The proxy writes line by line; Nagle plus delayed ACKs would add 40 ms stalls.
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._sockets += [client, server]
            conn = _Connection(self, client, server)
            self._spawn(conn.client_to_server)
            self._spawn(conn.server_to_client)

    def _claim(self, fault: str, command: str | None = None) -> object:
        """Disarm and return a fault that is armed (for `command`, when given); else None."""
        with self._lock:
            value = getattr(self.faults, fault)
            if value is None or (command is not None and value != command):
                return None
            setattr(self.faults, fault, None)
            return value

    def _strip_caps(self, caps: bytes) -> bytes:
        return b" ".join(c for c in caps.split() if c.decode().upper() not in self.strip)

    def rewrite(self, line: bytes) -> bytes | None:
        """One server line outside any literal, as 163 would send it; None drops it."""
        if _UIDNEXT.match(line):
            return None
        if line.upper().startswith(b"* CAPABILITY "):
            return b"* CAPABILITY " + self._strip_caps(line[len(b"* CAPABILITY ") : -2]) + b"\r\n"
        return _CAPABILITY_CODE.sub(lambda m: b"[CAPABILITY " + self._strip_caps(m.group(1)) + b"]", line)


class _ResetError(Exception):
    """The fault fired: the client connection was reset on purpose."""


class _Connection:
    def __init__(self, proxy: Imap163Proxy, client: socket.socket, server: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.server = server
        self.id_sent = False
        self.send_lock = threading.Lock()
        # Server bytes still allowed through before the armed reset fires; None when unarmed.
        self.budget: int | None = None
        self.reset = False

    def client_to_server(self) -> None:
        reader = self.client.makefile("rb")
        try:
            for command in _commands(reader):
                if not self._intercept(command):
                    for part in command:
                        self.server.sendall(part)
        except OSError:
            pass
        finally:
            reader.close()
            _hard_close(self.server)

    def _intercept(self, command: list[bytes]) -> bool:
        """Answer a command in the proxy instead of the server; True when it was answered."""
        words = command[0].split(None, 3)
        if len(words) < 2:
            return False  # a continuation such as DONE after IDLE
        tag, name = words[0], words[1].upper()
        if name == b"UID" and len(words) > 2:
            name += b" " + words[2].upper()
        label = name.decode(errors="replace")
        self.proxy.commands.append(label)
        if self.proxy._claim("bye_on_command", label) is not None:
            self._send(b"* BYE Connection closed by server\r\n")
            _hard_close(self.client)
            return True
        if name == b"ID":
            self.id_sent = True
        reply = None
        if name in (b"SELECT", b"EXAMINE") and self.proxy.require_id and not self.id_sent:
            reply = UNSAFE_LOGIN
        elif label.split()[-1] in ("IDLE", "MOVE") and label.split()[-1] in self.proxy.strip:
            reply = b"BAD Unsupported command"
        if reply is not None:
            self._send(tag + b" " + reply + b"\r\n")
            return True
        if name in (b"FETCH", b"UID FETCH"):
            budget = self.proxy._claim("reset_after_fetch_bytes")
            if isinstance(budget, int):
                self.budget = budget
        return False

    def server_to_client(self) -> None:
        reader = self.server.makefile("rb")
        try:
            while line := reader.readline():
                out = self.proxy.rewrite(line)
                if out is None:
                    continue
                match = _LITERAL.search(line)
                with self.send_lock:
                    self._send_unlocked(out)
                    remaining = int(match.group(1)) if match else 0
                    while remaining:
                        chunk = reader.read(min(_CHUNK, remaining))
                        if not chunk:
                            return
                        remaining -= len(chunk)
                        self._send_unlocked(chunk)
        except (OSError, _ResetError):
            pass
        finally:
            reader.close()
            _hard_close(self.client, reset=self.reset)

    def _send(self, data: bytes) -> None:
        with self.send_lock:
            self._send_unlocked(data)

    def _send_unlocked(self, data: bytes) -> None:
        if self.budget is not None:
            if len(data) >= self.budget:
                self.client.sendall(data[: self.budget])
                self.budget = 0
                self.reset = True
                raise _ResetError
            self.budget -= len(data)
        self.client.sendall(data)


def _commands(reader: BinaryIO) -> Iterator[list[bytes]]:
    """Client commands, each as its parts: lines and the literals they announce."""
    while line := reader.readline():
        parts = [line]
        while match := _LITERAL.search(parts[-1]):
            parts.append(reader.read(int(match.group(1))))
            parts.append(reader.readline())
        yield parts


def _hard_close(sock: socket.socket, *, reset: bool = False) -> None:
    """Close a socket another thread may be reading through a makefile() reader.

    shutdown() wakes that reader at once; the descriptor itself is released when the reader is
    closed too. With `reset`, SO_LINGER 0 turns that release into a TCP RST (as a dropped NAT
    entry or a server crash looks to the client) and SHUT_RD wakes the reader without a FIN.
    """
    with contextlib.suppress(OSError):
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RD)
        else:
            sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@pytest.fixture(name="imap163")
def imap163_fixture(dovecot_server: DovecotServer) -> Iterator[Imap163Proxy]:
    """A 163-like proxy in front of the session's Dovecot (use with the `dovecot` fixture)."""
    with Imap163Proxy(upstream_port=dovecot_server.port) as proxy:
        yield proxy
