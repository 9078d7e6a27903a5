"""Engines, migrations and short transactions for the ledger (SQLite by default, PostgreSQL to scale out)."""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.engine import Engine
from sqlmodel import Session

# Every table must be on SQLModel.metadata whenever a database is used; the outbox model lives in
# its own package and cannot be imported from daemon.models (that would be circular).
import daemon.models  # noqa: F401 (registers the ledger tables)
import outbox.table  # noqa: F401 (registers the outbox table)
from daemon import models_scoring  # noqa: F401 (registers the scoring tables)

# Alembic loads on first use (~0.15 s): a command reading a ledger at the newest schema needs none
# of it (see at_head).
if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

    from daemon.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The revision a database created without migrations (SQLModel's create_all) is equivalent to.
BASE_REVISION = "0001"
# Any constant will do; every process upgrading the same PostgreSQL database must use the same one.
_PG_UPGRADE_LOCK = 0x78696E62
# Execution option: a SQLite transaction that does not take the write lock up front.
_READONLY = "xinbao_readonly"
# Execution option: a commit that need not be on disk when it returns (see lazy_commit).
_LAZY = "xinbao_lazy_commit"
# Where a SQLite connection remembers its current PRAGMA synchronous level.
_SYNCHRONOUS = "xinbao_synchronous"
# Seconds a connection waits to turn a new SQLite ledger to WAL while another one writes to it.
WAL_SWITCH_WAIT = 30.0

__all__ = [
    "BASE_REVISION",
    "at_head",
    "current_revision",
    "head_revision",
    "lazy_commit",
    "make_engine",
    "open_database",
    "session",
    "upgrade",
]


def make_engine(url: str | sa.URL) -> Engine:
    """An engine for a `sqlite:///path` or `postgresql+psycopg://` URL, configured for the daemon.

    SQLite: WAL, a 10 s busy timeout, foreign keys on, synchronous=FULL (a commit survives a power
    cut too: the server is flagged only after the commit, so the commit must be on disk first;
    `lazy_commit` transactions are the exception, NORMAL);
    the file and any directory made for it are private to the owner.
    """
    u = sa.make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:" and not u.database.startswith("file:"):
            _private_file(Path(u.database))
        engine = sa.create_engine(u)
        _sqlite_events(engine)
        return engine
    if u.drivername in ("postgresql", "postgres"):
        # psycopg 3 is the driver we ship; SQLAlchemy's default for a bare scheme is psycopg2.
        u = u.set(drivername="postgresql+psycopg")
    # A long-running daemon outlives server restarts; test each pooled connection before use.
    engine = sa.create_engine(u, pool_pre_ping=True)
    if u.get_backend_name() == "postgresql":

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            if conn.get_execution_options().get(_LAZY):
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")

    return engine


def _private_file(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        st = os.fstat(fd)
        # Tighten a file we own that was made elsewhere; SQLite gives its -wal and -shm files
        # the same mode as the database file.
        if st.st_mode & 0o077 and st.st_uid == os.getuid():
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def _sqlite_events(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: Any) -> None:
        # sqlite3 before Python 3.12 begins transactions itself, and only before DML (so DDL and
        # SELECTs run outside them); take that job over, see _on_begin. The PRAGMAs below then run
        # outside any transaction, as journal_mode requires.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            # WAL is a property of the file: set once, by whoever opens it first.
            if cur.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                _switch_to_wal(cur)
            cur.execute("PRAGMA synchronous=FULL")
            record.info[_SYNCHRONOUS] = "FULL"
            cur.execute("PRAGMA busy_timeout=10000")
            cur.execute("PRAGMA foreign_keys=ON")
        finally:
            cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # The level is the connection's, set outside a transaction and read by its commit; a pooled
        # connection that served a lazy_commit goes back to FULL for the next transaction.
        level = "NORMAL" if conn.get_execution_options().get(_LAZY) else "FULL"
        if conn.info.get(_SYNCHRONOUS) != level:
            conn.exec_driver_sql(f"PRAGMA synchronous={level}")
            conn.info[_SYNCHRONOUS] = level
        # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when
        # another connection wrote in between (the busy timeout does not apply to that upgrade).
        # Write transactions therefore take the write lock up front and wait their turn.
        if conn.get_execution_options().get(_READONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def _switch_to_wal(cur: Any) -> None:
    # Leaving the rollback journal needs the file to itself, and SQLite answers "database is
    # locked" at once, without its busy handler, while another connection writes: two commands
    # started together on a new ledger (cron's `xinbao poll` and an operator's) hit this. Wait.
    deadline = time.monotonic() + WAL_SWITCH_WAIT
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextmanager
def session(engine: Engine, *, readonly: bool = False) -> Iterator[Session]:
    """One short transaction: commits when the block ends, rolls back if it raises.

    Objects stay readable after the block (no expiry on commit). `readonly` only changes locking
    on SQLite: the transaction does not take the write lock up front, so it never waits for the
    daemon, and a write inside it may fail with "database is locked".
    """
    bind = engine.execution_options(**{_READONLY: True}) if readonly else engine
    with Session(bind, expire_on_commit=False) as s:
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise


def lazy_commit(s: orm.Session) -> None:
    """Let the transaction `s` begins next commit without waiting for the disk.

    Such a commit survives the process being killed (the data is with the OS) and becomes durable
    with the next ordinary commit; only a power cut, or a crash of the PostgreSQL server, can undo
    it, never partly. For a mark whose loss costs a repeat, not a loss: the relay's `sent`, whose
    loss means the same message (same Message-ID) is sent once more. Call before the transaction's
    first statement.
    """
    s.connection(execution_options={_LAZY: True})


def _alembic_config(conn: sa.Connection) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    cfg.attributes["connection"] = conn
    return cfg


def upgrade(target: str | sa.URL | Engine) -> None:
    """Bring the database to the newest revision (alembic `upgrade head`); a no-op when it is there.

    Runs in one transaction. A database made before migrations existed (tables, no
    alembic_version) is stamped at BASE_REVISION first and then upgraded.
    """
    from alembic import command

    engine = target if isinstance(target, Engine) else make_engine(target)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Two processes upgrading at once (`xinbao init` beside a starting daemon) queue
                # here instead of racing; the lock ends with the transaction.
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_UPGRADE_LOCK})
            cfg = _alembic_config(conn)
            inspector = sa.inspect(conn)
            if not inspector.has_table("alembic_version") and inspector.has_table("messages"):
                command.stamp(cfg, BASE_REVISION)
            command.upgrade(cfg, "head")
    finally:
        if not isinstance(target, Engine):
            engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None before the first upgrade."""
    from alembic.runtime.migration import MigrationContext

    with engine.execution_options(**{_READONLY: True}).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision this code knows."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    return ScriptDirectory.from_config(cfg).get_current_head()


# The module-level assignments every revision file opens with (script.py.mako writes them).
_REVISION = re.compile(r"^revision\b[^=\n]*=\s*(.+)$", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision\b[^=\n]*=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"""["']([^"']+)["']""")


def _script_head() -> str | None:
    """The head revision read from the revision files' text; None whenever that is not certain.

    Alembic's own answer (head_revision) imports every revision module; this one reads lines.
    Any file it cannot read plainly (no or several `revision = "…"` lines), several heads or
    none answer None, and the caller then runs the full alembic path.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        found, down = _REVISION.findall(text), _DOWN_REVISION.findall(text)
        if len(found) != 1 or len(down) != 1:
            return None
        names = _QUOTED.findall(found[0])
        if len(names) != 1:
            return None
        revisions.add(names[0])
        parents.update(_QUOTED.findall(down[0]))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def at_head(engine: Engine) -> bool:
    """Whether the database is at the newest revision, known without importing alembic.

    False also when in doubt (no alembic_version table, several rows, an unreadable revision
    file): `upgrade` then decides, as it always did.
    """
    head = _script_head()
    if head is None:
        return False
    with engine.execution_options(**{_READONLY: True}).connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return False
        rows = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    return [tuple(r) for r in rows] == [(head,)]


def open_database(config: Config) -> Engine:
    """The ledger at the newest schema, with units and publicists synced from config.

    Alembic runs only when the database is not already at the newest revision (`at_head`): every
    command opens the ledger this way and nearly always finds it there, and importing alembic
    and reading its revision modules took a command ~0.2 s. `daemon.runtime` re-exports this.
    """
    from daemon import ledger

    engine = make_engine(config.database_url())
    if not at_head(engine):
        upgrade(engine)
    with session(engine) as s:
        ledger.sync_units(s, config.units, config.publicists)
    return engine
