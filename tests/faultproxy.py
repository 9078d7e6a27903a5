"""A loopback TCP proxy that misbehaves on purpose: reset after N bytes, black hole, slow.

Sits in front of any server (Dovecot, aiosmtpd) so the daemon meets the network as it is:
connections that die mid-response, servers that stop answering, links that trickle.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from dataclasses import dataclass, field


@dataclass
class FaultProxy:
    """Forwards 127.0.0.1:port to the upstream port; `mode` applies to new connections."""

    upstream_port: int
    # "pass", "reset" (RST after `after_bytes` of server→client traffic), "blackhole" (accept,
    # never forward a byte), "slow" (server→client at `bytes_per_second`).
    mode: str = "pass"
    after_bytes: int = 0
    bytes_per_second: int = 50_000
    port: int = 0
    _listener: socket.socket | None = None
    _sockets: list[socket.socket] = field(default_factory=list)
    _stopping: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> FaultProxy:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        self._listener = listener
        self.port = listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        for sock in [self._listener, *self._sockets]:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._sockets.append(client)
            if self.mode == "blackhole":
                continue  # the connection stays open and silent
            server = socket.create_connection(("127.0.0.1", self.upstream_port))
            self._sockets.append(server)
            mode, after, rate = self.mode, self.after_bytes, self.bytes_per_second
            threading.Thread(target=self._pipe, args=(client, server, "pass", 0, 0), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, mode, after, rate), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, mode: str, after: int, rate: int) -> None:
        sent = 0
        try:
            while chunk := src.recv(4096 if mode != "slow" else 512):
                if mode == "reset" and sent + len(chunk) > after:
                    dst.sendall(chunk[: max(after - sent, 0)])
                    # SO_LINGER 0: close sends RST, as a dropped NAT entry or a crashed server does.
                    dst.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    dst.close()
                    src.close()
                    return
                if mode == "slow":
                    time.sleep(len(chunk) / rate)
                dst.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
