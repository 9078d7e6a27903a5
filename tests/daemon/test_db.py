"""The ledger database: migrations, constraints, time zones and SQLite settings, on both backends."""

from __future__ import annotations

import shutil
import sqlite3
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, select

import daemon.db
from daemon.config import parse_config
from daemon.db import current_revision, head_revision, make_engine, session, upgrade
from daemon.models import Message, MessageState, PollState, Submission, SubmissionStatus, Unit
from outbox.table import Outbox

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 20, 9, 30, tzinfo=SHANGHAI)


def _message(uid: int = 1, *, uidvalidity: int = 1750000000, sha: str = "ab" * 32) -> Message:
    return Message(
        account="pjyjjbgs@163.com",
        folder="INBOX",
        uidvalidity=uidvalidity,
        uid=uid,
        sha256=sha,
        size=2048,
        internaldate=NOW,
        state=MessageState.FETCHED,
        created_at=NOW,
        updated_at=NOW,
    )


def _outbox(key: str) -> Outbox:
    return Outbox(
        key=key,
        kind="receipt",
        recipient="wangqiang.wh@163.com",
        message_id="<receipt-1@xinbao>",
        subject="稿件已收到",
        raw=b"Subject: x\r\n\r\nbody\r\n",
        created_at=NOW,
    )


def _tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_creates_every_table_on_an_empty_database(db_url: str) -> None:
    """`xinbao init` on a new install leaves the database at the newest revision with every table."""
    engine = make_engine(db_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert _tables(engine) == set(SQLModel.metadata.tables)
    finally:
        engine.dispose()


def test_upgrade_twice_changes_nothing(db_url: str) -> None:
    """Running `init` again (or the daemon starting after it) keeps the ledger as it was."""
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with session(engine) as s:
            s.add(_message())
        upgrade(db_url)
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with session(engine) as s:
            assert len(s.exec(select(Message)).all()) == 1
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    """The migrations and the SQLModel tables (the outbox's included) describe the same schema."""
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diffs == []
    inspector = sa.inspect(engine)
    for name, table in SQLModel.metadata.tables.items():
        assert {c["name"] for c in inspector.get_columns(name)} == set(table.columns.keys()), name


def test_a_database_at_0001_is_upgraded_by_a_later_release(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bureau running this release keeps its ledger when a release with a newer revision starts."""
    base = head_revision()
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with session(engine) as s:
            s.add(_message())
        later = tmp_path / "migrations"
        shutil.copytree(daemon.db.MIGRATIONS, later, ignore=shutil.ignore_patterns("__pycache__"))
        (later / "versions" / "9999_note.py").write_text(
            '"""Add a note to messages."""\n'
            "import sqlalchemy as sa\n"
            "from alembic import op\n\n"
            'revision = "9999"\n'
            f'down_revision = "{base}"\n'
            "branch_labels = None\n"
            "depends_on = None\n\n\n"
            "def upgrade() -> None:\n"
            '    op.add_column("messages", sa.Column("note", sa.Text(), nullable=True))\n',
            encoding="utf-8",
        )
        monkeypatch.setattr(daemon.db, "MIGRATIONS", later)
        assert current_revision(engine) == base
        upgrade(engine)
        assert current_revision(engine) == head_revision() == "9999"
        columns = {c["name"] for c in sa.inspect(engine).get_columns("messages")}
        assert "note" in columns
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT uid, note FROM messages")).all() == [(1, None)]
    finally:
        engine.dispose()


def test_a_database_made_before_migrations_is_stamped_and_kept(db_url: str) -> None:
    """Tables created straight from the models (no alembic_version) are adopted, not recreated."""
    engine = make_engine(db_url)
    try:
        SQLModel.metadata.create_all(engine)
        with session(engine) as s:
            s.add(_message())
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with session(engine) as s:
            assert len(s.exec(select(Message)).all()) == 1
    finally:
        engine.dispose()


def test_the_same_mailbox_uid_cannot_be_recorded_twice(engine: Engine) -> None:
    """(account, folder, UIDVALIDITY, UID) names one message; the same bytes may arrive again."""
    with session(engine) as s:
        s.add(_message(uid=7))
        # Forwarded again: new UID, same bytes. Allowed; the content hash stops the recount.
        s.add(_message(uid=8))
        # After a UIDVALIDITY change the same UID is a different message.
        s.add(_message(uid=7, uidvalidity=1750000001))
    with pytest.raises(sa.exc.IntegrityError), session(engine) as s:
        s.add(_message(uid=7))
    with session(engine) as s:
        assert len(s.exec(select(Message).where(Message.sha256 == "ab" * 32)).all()) == 3


def test_an_outbox_key_is_queued_once(engine: Engine) -> None:
    """Two rows for one kind|period|recipient would mean a notice sent twice; the key forbids it."""
    key = "monthly_notice|2025-06|office@example.cn"
    with session(engine) as s:
        s.add(_outbox(key))
    with pytest.raises(sa.exc.IntegrityError), session(engine) as s:
        s.add(_outbox(key))
    with session(engine) as s:
        assert s.exec(select(sa.func.count()).select_from(Outbox)).one() == 1


def test_times_come_back_aware_and_in_utc(engine: Engine) -> None:
    """A Shanghai INTERNALDATE is stored as UTC and read back as the same instant, tz-aware."""
    with session(engine) as s:
        msg = _message()
        s.add(msg)
        s.add(PollState(account="a", folder="INBOX", last_success_at=NOW + timedelta(minutes=1)))
    with session(engine) as s:
        row = s.exec(select(Message)).one()
        assert row.internaldate == NOW
        assert row.internaldate.utcoffset() == timedelta(0)
        assert row.internaldate.hour == 1  # 09:30 in Shanghai is 01:30 UTC
        assert row.created_at.tzinfo is not None
        poll = s.exec(select(PollState)).one()
        assert poll.last_success_at == datetime(2025, 6, 20, 1, 31, tzinfo=UTC)
        # Comparisons convert their parameters too: a Shanghai bound selects by instant.
        before = datetime(2025, 6, 20, 9, 29, tzinfo=SHANGHAI)
        assert s.exec(select(Message).where(Message.internaldate > before)).all() == [row]


def test_a_naive_time_is_refused(engine: Engine) -> None:
    """A naive datetime would be silently read as UTC; the ledger refuses it instead."""
    msg = _message()
    msg.internaldate = datetime(2025, 6, 20, 9, 30)  # naive: the point of the test
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), session(engine) as s:
        s.add(msg)


def test_states_and_statuses_load_as_enums(engine: Engine) -> None:
    """The state columns hold the plain values and come back as MessageState / SubmissionStatus."""
    with session(engine) as s:
        msg = _message()
        msg.state = MessageState.QUARANTINED
        s.add(msg)
        s.flush()
        assert msg.id is not None
        s.add(
            Submission(
                message_row_id=msg.id,
                sender="wangqiang.wh@163.com",
                title="我局开展汛期安全检查",
                text_hash="cd" * 32,
                chars=812,
                status=SubmissionStatus.UNVERIFIED,
                source="稿件.zip/稿件/标题.docx",
                received_at=NOW,
                created_at=NOW,
            )
        )
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT state FROM messages")).scalar_one() == "quarantined"
    with session(engine) as s:
        assert s.exec(select(Message)).one().state is MessageState.QUARANTINED
        assert s.exec(select(Submission)).one().status is SubmissionStatus.UNVERIFIED


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    """A submission must point at a recorded message, on SQLite as on PostgreSQL."""
    with pytest.raises(sa.exc.IntegrityError), session(engine) as s:
        s.add(
            Submission(
                message_row_id=999,
                sender="a@b.cn",
                title="t",
                text_hash="00" * 32,
                chars=1,
                status=SubmissionStatus.ACCEPTED,
                source="a.docx",
                received_at=NOW,
                created_at=NOW,
            )
        )


def test_a_failed_transaction_leaves_nothing_behind(engine: Engine) -> None:
    """Submissions and their outbox rows commit together or not at all."""

    def record_then_crash() -> None:
        with session(engine) as s:
            s.add(Unit(name="危化科"))
            s.add(_outbox("receipt|<m1>|wangqiang.wh@163.com"))
            s.flush()
            raise RuntimeError("parser worker died")

    with pytest.raises(RuntimeError, match="worker died"):
        record_then_crash()
    with session(engine, readonly=True) as s:
        assert s.exec(select(Unit)).all() == []
        assert s.exec(select(Outbox)).all() == []


def test_sqlite_ledger_is_private_and_in_wal_mode(tmp_path: Path) -> None:
    """The SQLite file (and its WAL) is readable by the daemon's user alone, in WAL mode."""
    path = tmp_path / "var" / "xinbao.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        with session(engine) as s:
            s.add(_message())
        with engine.connect() as conn:
            pragmas = {
                p: conn.exec_driver_sql(f"PRAGMA {p}").scalar()
                for p in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
            }
        assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "synchronous": 2, "busy_timeout": 10000}
        for f in (path, path.with_name("xinbao.db-wal")):
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    finally:
        engine.dispose()


def test_sqlite_writers_take_turns_instead_of_failing(tmp_path: Path) -> None:
    """The daemon and an `xinbao adopt` both read then write; the second waits for the first.

    With sqlite3's deferred transactions the second writer would read a stale snapshot and then
    fail with "database is locked" the moment it tried to write.
    """
    url = f"sqlite:///{tmp_path / 'xinbao.db'}"
    upgrade(url)
    daemon_engine, cli_engine = make_engine(url), make_engine(url)
    errors: list[BaseException] = []

    def cli() -> None:
        try:
            with session(cli_engine) as s:
                seen = len(s.exec(select(Unit)).all())
                s.add(Unit(name=f"命令行{seen}"))
        except BaseException as exc:  # noqa: BLE001 (handed to the main thread)
            errors.append(exc)

    try:
        with session(daemon_engine) as s:
            s.exec(select(Unit)).all()
            other = threading.Thread(target=cli)
            other.start()
            s.add(Unit(name="守护进程"))
        other.join()
        assert errors == []
        with session(daemon_engine, readonly=True) as s:
            assert {u.name for u in s.exec(select(Unit))} == {"守护进程", "命令行1"}
    finally:
        daemon_engine.dispose()
        cli_engine.dispose()


def test_a_readonly_session_does_not_wait_for_the_writer(tmp_path: Path) -> None:
    """`xinbao status` reads the last committed state while the daemon is mid-transaction."""
    url = f"sqlite:///{tmp_path / 'xinbao.db'}"
    upgrade(url)
    daemon_engine, cli_engine = make_engine(url), make_engine(url)
    try:
        with session(daemon_engine) as s:
            s.add(Unit(name="危化科"))
            s.flush()
            with session(cli_engine, readonly=True) as r:
                assert r.exec(select(Unit)).all() == []
        with session(cli_engine, readonly=True) as r:
            assert [u.name for u in r.exec(select(Unit))] == ["危化科"]
    finally:
        daemon_engine.dispose()
        cli_engine.dispose()


def test_a_lazy_commit_does_not_wait_for_the_disk_and_the_next_one_does(engine: Engine) -> None:
    """The relay's "sent" mark may be undone by a power cut (one more send); what a pass records
    never may: the connection that served the lazy commit is back to a full one afterwards."""
    if engine.dialect.name == "sqlite":
        setting, lazy, full = "PRAGMA synchronous", 1, 2  # NORMAL, FULL
    else:
        # The test server runs with synchronous_commit off (tests/pgserver.py); production's is on.
        setting, lazy, full = "SHOW synchronous_commit", "off", "on"
        with session(engine) as s:
            s.connection().exec_driver_sql(
                f'ALTER DATABASE "{engine.url.database}" SET synchronous_commit = on'
            )
        engine.dispose()  # new connections take the database's setting
    with session(engine) as s:
        daemon.db.lazy_commit(s)
        s.add(_outbox("receipt|sent"))
        assert s.connection().exec_driver_sql(setting).scalar() == lazy
    for _ in range(3):  # whichever pooled connection comes next
        with session(engine) as s:
            assert s.connection().exec_driver_sql(setting).scalar() == full
    with session(engine, readonly=True) as s:
        assert s.get(Outbox, 1) is not None


def test_sqlite_file_made_world_readable_is_tightened(tmp_path: Path) -> None:
    """A ledger copied in with a loose mode (a restore from backup) is made private on open."""
    path = tmp_path / "xinbao.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    make_engine(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_bare_postgresql_url_uses_psycopg_3() -> None:
    """`postgresql://` in config.toml means the psycopg 3 driver we ship, not psycopg2."""
    engine = make_engine("postgresql://xinbao@127.0.0.1:5432/xinbao")
    try:
        assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()


def _later_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, revision: str) -> str:
    """The shipped migrations plus a revision `9999` on top, as a later release would ship them."""
    base = head_revision()
    later = tmp_path / "migrations"
    shutil.copytree(daemon.db.MIGRATIONS, later, ignore=shutil.ignore_patterns("__pycache__"))
    (later / "versions" / "9999_note.py").write_text(revision.format(base=base), encoding="utf-8")
    monkeypatch.setattr(daemon.db, "MIGRATIONS", later)
    assert base is not None
    return base


NOTE = (
    '"""Add a note to messages."""\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
    'revision: str = "9999"\ndown_revision: str | None = "{base}"\n\n\n'
    "def upgrade() -> None:\n"
    '    op.add_column("messages", sa.Column("note", sa.Text(), nullable=True))\n'
)


def test_at_head_reads_the_revision_without_alembic(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command that only reads checks alembic_version against the revision files' text: at the
    newest revision it is there; empty, or behind a later release, it is not."""
    engine = make_engine(db_url)
    try:
        assert daemon.db._script_head() == head_revision()
        assert not daemon.db.at_head(engine)
        upgrade(engine)
        assert daemon.db.at_head(engine)
        _later_release(tmp_path, monkeypatch, NOTE)
        assert daemon.db._script_head() == head_revision() == "9999"
        assert not daemon.db.at_head(engine)
        upgrade(engine)
        assert daemon.db.at_head(engine)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "odd",
    [
        'revision = "9999"\nrevision = "9998"\ndown_revision = "{base}"\n',  # two revision lines
        'REVISION = "9999"\ndown_revision = "{base}"\n',  # none the reader recognises
        'revision = "9999"\ndown_revision = ("{base}", "0002")\n',  # a merge: fine, one head
        'revision = "9999"\ndown_revision = None\n',  # a second root: two heads
    ],
)
def test_a_revision_file_read_in_doubt_leaves_the_decision_to_alembic(
    odd: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a plain single head counts as known; anything else answers None (alembic decides)."""
    base = _later_release(tmp_path, monkeypatch, odd)
    expected = "9999" if "(" in odd else None
    assert daemon.db._script_head() == expected, base


def test_opening_a_ledger_at_head_runs_no_migration(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`xinbao scores` on an up-to-date ledger does not touch alembic; on a new or older ledger
    (`xinbao init`, the daemon after an upgrade) it migrates first, as before; units sync either way."""
    config = parse_config({"database": {"url": db_url}, "units": [{"name": "危化科", "group": "department"}]})
    calls: list[object] = []
    real = daemon.db.upgrade

    def counted(target: Engine) -> None:
        calls.append(target)
        real(target)

    monkeypatch.setattr(daemon.db, "upgrade", counted)
    daemon.db.open_database(config).dispose()
    assert len(calls) == 1
    engine = daemon.db.open_database(
        parse_config({"database": {"url": db_url}, "units": [{"name": "宣教科"}]})
    )
    try:
        assert len(calls) == 1
        with session(engine) as s:
            assert {(u.name, u.active) for u in s.exec(select(Unit))} == {("危化科", False), ("宣教科", True)}
        _later_release(tmp_path, monkeypatch, NOTE)
        daemon.db.open_database(config).dispose()
        assert len(calls) == 2
        assert "note" in {c["name"] for c in sa.inspect(engine).get_columns("messages")}
    finally:
        engine.dispose()


def test_a_second_command_on_a_new_ledger_waits_for_the_first_to_turn_it_to_wal(tmp_path: Path) -> None:
    """Cron's `xinbao poll` and an operator's start together on a ledger that does not exist yet:
    while the first writes the new file, the second waits to switch it to WAL instead of failing
    with "database is locked" (SQLite does not wait on its own for that switch)."""
    path = tmp_path / "xinbao.db"
    first = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    first.execute("BEGIN IMMEDIATE")
    first.execute("CREATE TABLE made_first (x)")
    done = threading.Timer(0.5, lambda: first.execute("COMMIT"))
    done.start()
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("SELECT count(*) FROM made_first").scalar() == 0
    finally:
        done.join()
        engine.dispose()
        first.close()
