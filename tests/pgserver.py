"""A throw-away Debian PostgreSQL 15 on loopback for tests, and the fixtures that hand out databases.

One server runs per test session; every test gets a fresh database, dropped afterwards. As root
the server runs as the `postgres` system user (PostgreSQL refuses to run as root). A conftest
re-exports the fixtures: ``from tests.pgserver import db_url, pg_server  # noqa: F401``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SERVER_USER = "postgres"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class PgServer:
    """A running cluster; `url(db)` is a SQLAlchemy URL, `create_database` a fresh empty database."""

    root: Path
    port: int
    run_as: str | None
    started_in: float = 0.0

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _cmd(self, *args: str) -> list[str]:
        return ["runuser", "-u", self.run_as, "--", *args] if self.run_as else list(args)

    def start(self) -> None:
        began = time.monotonic()
        if self.run_as:
            entry = pwd.getpwnam(self.run_as)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        subprocess.run(
            self._cmd(
                str(PG_BIN / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ),
            check=True,
            capture_output=True,
        )
        # A scratch cluster: durability settings off make CREATE DATABASE and commits cheap.
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        subprocess.run(
            self._cmd(
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.root / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ),
            check=True,
            capture_output=True,
        )
        self.started_in = time.monotonic() - began

    def stop(self) -> None:
        subprocess.run(
            self._cmd(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"),
            check=False,
            capture_output=True,
        )

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        )

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        name = f"xinbao_{uuid.uuid4().hex[:12]}"
        with self._admin() as conn:
            # FILE_COPY copies template1's few files (~30 ms with fsync off); the default
            # WAL_LOG writes the whole template through the WAL (~300 ms).
            conn.execute(sql.SQL("CREATE DATABASE {} STRATEGY FILE_COPY").format(sql.Identifier(name)))
        return name

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            # FORCE ends connections a test left open (an engine not disposed).
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _start() -> PgServer:
    run_as = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            pytest.skip(f"running as root and there is no '{SERVER_USER}' user to run PostgreSQL as")
        run_as = SERVER_USER
    # Not under pytest's basetemp: that is private to root, and the server user must reach it.
    root = Path(tempfile.mkdtemp(prefix="xinbao-pg-"))
    server = PgServer(root=root, port=_free_port(), run_as=run_as)
    try:
        server.start()
    except subprocess.CalledProcessError as exc:
        log = root / "server.log"
        detail = log.read_text(errors="replace") if log.exists() else exc.stderr.decode(errors="replace")
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {detail}") from exc
    return server


class _Shared:
    """One cluster however many conftests re-export the fixture (each import is its own fixture)."""

    server: PgServer | None = None
    users = 0

    @classmethod
    def acquire(cls) -> PgServer:
        if cls.server is None:
            cls.server = _start()
        cls.users += 1
        return cls.server

    @classmethod
    def release(cls) -> None:
        cls.users -= 1
        if cls.users == 0 and cls.server is not None:
            cls.server.stop()
            shutil.rmtree(cls.server.root, ignore_errors=True)
            cls.server = None


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL cluster for the whole test session."""
    if not (PG_BIN / "postgres").exists():
        pytest.skip(f"PostgreSQL 15 is not installed ({PG_BIN}); Debian package postgresql-15")
    server = _Shared.acquire()
    try:
        yield server
    finally:
        _Shared.release()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database, not yet migrated: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'var' / 'xinbao.db'}"
        return
    server: PgServer = request.getfixturevalue("pg_server")
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)
