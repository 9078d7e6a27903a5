"""A throw-away Debian Dovecot on loopback for tests, and the pytest fixtures that hand out accounts.

One server runs per test session (it starts in well under a second); every test gets a fresh user,
so each test sees an empty INBOX with its own UIDVALIDITY. Import the fixtures explicitly into a
test module: ``from tests.dovecot import dovecot_fixture, dovecot_server_fixture  # noqa: F401``
(tests/daemon/conftest.py belongs to others); the fixtures are named `dovecot` and `dovecot_server`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from imapclient import IMAPClient

DOVECOT = Path("/usr/sbin/dovecot")
DH_PARAMS = Path("/usr/share/dovecot/dh.pem")
PASSWORD = "s3cret-authcode"
USERS = 1000

_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = {ssl}
{ssl_settings}
disable_plaintext_auth = no
auth_mechanisms = plain login
# A refused login is answered at once instead of after the default 2 s penalty.
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
last_valid_gid = {gid}
mail_location = maildir:{root}/mail/%u
# Throw-away mail: no fsync. Tests open and drop many short connections from one address.
mail_fsync = never
mail_max_userip_connections = 1000
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
"""


def _user(n: int) -> str:
    return f"office{n}@xinbao.test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class DovecotServer:
    """One running Dovecot: a plain listener, and an implicit-TLS one when `cert` is set."""

    root: Path
    port: int = 0
    tls_port: int = 0
    cert: Path | None = None
    _proc: subprocess.Popen[bytes] | None = None
    _users: Iterator[int] = field(default_factory=itertools.count)

    def start(self) -> None:
        # Dovecot refuses to run mail processes as root: mail belongs to an unprivileged user.
        if os.geteuid() == 0:
            mail_user, login_user, internal_user = "nobody", "dovenull", "dovecot"
        else:
            mail_user = login_user = internal_user = pwd.getpwuid(os.geteuid()).pw_name
        entry = pwd.getpwnam(mail_user)
        self._uid, self._gid = entry.pw_uid, entry.pw_gid
        mail = self.root / "mail"
        mail.mkdir()
        os.chown(mail, self._uid, self._gid)
        # passwd-file is re-read at most once a second, so every user a session may hand out is
        # written before the start rather than appended test by test.
        (self.root / "users").write_text(
            "".join(
                f"{_user(n)}:{{PLAIN}}{PASSWORD}:{self._uid}:{self._gid}::{mail / _user(n)}::\n"
                for n in range(USERS)
            )
        )
        self.cert = self._make_cert()
        ssl_settings = ""
        if self.cert:
            ssl_settings = f"ssl_cert = <{self.cert}\nssl_key = <{self.root / 'key.pem'}\n"
            if DH_PARAMS.exists():
                ssl_settings += f"ssl_dh = <{DH_PARAMS}\n"
        for _ in range(5):
            self.port, self.tls_port = _free_port(), _free_port()
            conf = self.root / "dovecot.conf"
            conf.write_text(
                _CONF.format(
                    root=self.root,
                    ssl="yes" if self.cert else "no",
                    ssl_settings=ssl_settings,
                    login_user=login_user,
                    internal_user=internal_user,
                    uid=self._uid,
                    gid=self._gid,
                    port=self.port,
                    tls_port=self.tls_port if self.cert else 0,
                )
            )
            self._proc = subprocess.Popen([str(DOVECOT), "-F", "-c", str(conf)])
            if self._wait_ready():
                return
            self.stop()
        log = self.root / "dovecot.log"
        raise RuntimeError("Dovecot did not start: " + (log.read_text() if log.exists() else "no log"))

    def _make_cert(self) -> Path | None:
        """A self-signed certificate for 127.0.0.1, or None when the openssl CLI is absent."""
        if shutil.which("openssl") is None:
            return None
        cert, key = self.root / "cert.pem", self.root / "key.pem"
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
                *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
                *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
            ],
            check=True,
            capture_output=True,
        )
        return cert

    def _wait_ready(self) -> bool:
        assert self._proc is not None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            if _accepts(self.port) and (self.cert is None or _accepts(self.tls_port)):
                return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def add_user(self) -> tuple[str, str]:
        """A user no test has used yet: its maildir does not exist until the first login."""
        n = next(self._users)
        if n >= USERS:
            raise RuntimeError(f"the test Dovecot has only {USERS} users; raise USERS")
        return _user(n), PASSWORD


@dataclass
class Account:
    """One user's mailbox on the test Dovecot, with a side connection for setting up and checking."""

    server: DovecotServer
    user: str
    password: str
    host: str = "127.0.0.1"
    _admin: IMAPClient | None = None

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def tls_port(self) -> int:
        return self.server.tls_port

    def client(self) -> IMAPClient:
        """The side connection (not the one under test), logged in."""
        if self._admin is None:
            self._admin = IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
            self._admin.login(self.user, self.password)
            self._admin.normalise_times = False
        return self._admin

    def append(
        self,
        raw: bytes,
        folder: str = "INBOX",
        flags: Sequence[bytes | str] = (),
        internaldate: datetime | None = None,
    ) -> int:
        """APPEND a message as a publicist's mail would arrive; returns its UID (UIDPLUS APPENDUID)."""
        client = self.client()
        if folder != "INBOX" and not client.folder_exists(folder):
            client.create_folder(folder)
        response = client.append(folder, raw, flags=flags, msg_time=internaldate)
        match = re.search(rb"\[APPENDUID \d+ (\d+)\]", response)
        assert match, response
        return int(match.group(1))

    def flags(self, uid: int, folder: str = "INBOX") -> set[bytes]:
        """The flags and keywords of one message, read without changing anything."""
        client = self.client()
        client.select_folder(folder, readonly=True)
        return set(client.get_flags([uid]).get(uid, ()))

    def messages(self, folder: str = "INBOX") -> dict[int, bytes]:
        """Every message of a folder, UID to raw bytes, read with BODY.PEEK."""
        client = self.client()
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        return {u: d[b"BODY[]"] for u, d in client.fetch(uids, ["BODY.PEEK[]"]).items()}

    def close(self) -> None:
        if self._admin is not None:
            with contextlib.suppress(Exception):
                self._admin.logout()
            with contextlib.suppress(Exception):
                self._admin.shutdown()
            self._admin = None


@pytest.fixture(scope="session", name="dovecot_server")
def dovecot_server_fixture() -> Iterator[DovecotServer]:
    """One Dovecot for the whole session, in a temp dir the unprivileged mail user can enter."""
    if not DOVECOT.exists():
        pytest.skip("Debian's dovecot-imapd is not installed (/usr/sbin/dovecot is absent)")
    root = Path(tempfile.mkdtemp(prefix="xinbao-dovecot-"))
    root.chmod(0o755)
    server = DovecotServer(root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(name="dovecot")
def dovecot_fixture(dovecot_server: DovecotServer) -> Iterator[Account]:
    """A fresh, empty mailbox account on the session's Dovecot."""
    user, password = dovecot_server.add_user()
    account = Account(dovecot_server, user, password)
    try:
        yield account
    finally:
        account.close()
