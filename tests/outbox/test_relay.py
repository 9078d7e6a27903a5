"""The relay against a real SMTP server on loopback that fails the way 163 does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import SQLModel

from daemon.db import make_engine
from outbox.compose import compose
from outbox.relay import ALERT_AUTH, ALERT_GAVE_UP, ALERT_REFUSED, ALERT_SENDER, ALERT_UNREACHABLE, Relay
from outbox.table import FAILED, OUTBOX_TABLE, PENDING, SENDING, SENT, Outbox, enqueue
from tests.outbox.conftest import Clock
from tests.pgserver import PgServer
from tests.smtpserver import LOGIN, PASSWORD, Fault, SmtpServer, free_port, self_signed

CST = timezone(timedelta(hours=8))


class Alerts(list[tuple[str, str]]):
    def __call__(self, kind: str, text: str) -> None:
        self.append((kind, text))


def _queue(
    sessions: sessionmaker[Session],
    clock: Clock,
    n: int,
    *,
    kind: str = "receipt",
    to: str = "wangqiang.wh@163.com",
) -> list[int]:
    """Queue `n` mails as the pipeline would; returns their row ids."""
    ids = []
    with sessions.begin() as s:
        for i in range(n):
            key = f"{kind}|msg-{i}-{clock().isoformat()}|{to}"
            msg = compose(
                sender=LOGIN,
                sender_name="盘锦市应急管理局办公室",
                to=to,
                subject=f"【已收到】《第{i + 1}篇稿件》——信息报送回执",
                text=f"王强同志：\n\n　　局办公室已收到第{i + 1}篇稿件。\n",
                html=None,
                key=key,
                domain="163.com",
                auto_reply=kind != "weekly_shortfall",
                date=clock().astimezone(CST),
            )
            assert enqueue(s, key=key, kind=kind, recipient=to, message=msg, now=clock())
        ids = list(s.execute(sa.select(OUTBOX_TABLE.c.id).order_by(OUTBOX_TABLE.c.id)).scalars())
    return ids[-n:]


def _rows(sessions: sessionmaker[Session]) -> list[Outbox]:
    with sessions() as s:
        return list(s.execute(sa.select(Outbox).order_by(OUTBOX_TABLE.c.id)).scalars())


def _relay(sessions: sessionmaker[Session], server: SmtpServer, clock: Clock, **kw: Any) -> Relay:
    cfg = kw.pop("cfg", None) or server.config()
    return Relay(sessions, cfg, password=PASSWORD, worker_id=kw.pop("worker_id", "w1"), clock=clock, **kw)


def test_sends_each_row_once_with_the_login_as_envelope_sender(
    sessions: sessionmaker[Session], smtp_server: SmtpServer, clock: Clock
) -> None:
    """Two receipts go out over one connection, byte for byte as queued, and are marked sent."""
    _queue(sessions, clock, 2)
    relay = _relay(sessions, smtp_server, clock)
    report = relay.run_once()
    assert (report.claimed, report.sent, report.stopped) == (2, 2, None)
    rows = _rows(sessions)
    assert [r.raw for r in rows] == [m.raw for m in smtp_server.received]
    assert all(m.mail_from == LOGIN and m.rcpt_tos == ("wangqiang.wh@163.com",) for m in smtp_server.received)
    assert all(r.state == SENT and r.sent_at == clock() and r.attempts == 1 for r in rows)
    assert all(r.lease_until is None and r.claimed_by is None for r in rows)
    clock.advance(timedelta(hours=1))
    assert relay.run_once().claimed == 0
    assert len(smtp_server.received) == 2


def test_the_sent_mark_does_not_wait_for_the_disk(
    tmp_path: Path, smtp_server: SmtpServer, clock: Clock
) -> None:
    """After the server's 250 the row is marked sent without an fsync (a power cut could at worst
    undo the mark: one more send, same Message-ID); the claim counting the attempt still waits."""
    engine = make_engine(f"sqlite:///{tmp_path / 'xinbao.db'}")
    SQLModel.metadata.create_all(engine)
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    _queue(sessions, clock, 1)
    level = ["FULL"]
    seen: list[tuple[str, str]] = []

    def watch(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.startswith("PRAGMA synchronous="):
            level[0] = statement.partition("=")[2]
        elif statement.startswith("UPDATE outbox"):
            seen.append(("sent" if "sent_at" in statement else "claim", level[0]))

    sa.event.listen(engine, "before_cursor_execute", watch)
    try:
        assert _relay(sessions, smtp_server, clock).run_once().sent == 1
    finally:
        sa.event.remove(engine, "before_cursor_execute", watch)
        engine.dispose()
    assert seen[0] == ("claim", "FULL")
    assert ("sent", "NORMAL") in seen


def test_temporary_refusal_is_retried_later(
    sessions: sessionmaker[Session], smtp_server: SmtpServer, clock: Clock
) -> None:
    """163 answers 451 (busy): the receipt waits five minutes, then goes out."""
    _queue(sessions, clock, 1)
    smtp_server.fail_next(Fault.TEMPORARY)
    relay = _relay(sessions, smtp_server, clock)
    assert relay.run_once().retried == 1
    (row,) = _rows(sessions)
    assert (row.state, row.attempts) == (PENDING, 1)
    assert row.next_attempt_at == clock() + timedelta(minutes=5)
    assert row.last_error is not None
    assert row.last_error.startswith("451")
    clock.advance(timedelta(minutes=4))
    assert relay.run_once().claimed == 0
    clock.advance(timedelta(minutes=1))
    assert relay.run_once().sent == 1
    assert _rows(sessions)[0].state == SENT
    assert len(smtp_server.received) == 1


def test_backoff_doubles_and_gives_up_after_max_attempts(
    sessions: sessionmaker[Session], smtp_server: SmtpServer, clock: Clock
) -> None:
    """A mail that keeps meeting 451 is retried with growing pauses, then failed and reported."""
    _queue(sessions, clock, 1)
    smtp_server.fail_next(Fault.TEMPORARY, times=3)
    alerts = Alerts()
    relay = _relay(sessions, smtp_server, clock, max_attempts=3, alert=alerts)
    waits = []
    for _ in range(3):
        relay.run_once()
        row = _rows(sessions)[0]
        if row.state == PENDING:
            assert row.next_attempt_at is not None
            waits.append(row.next_attempt_at - clock())
            clock.now = row.next_attempt_at
    assert waits == [timedelta(minutes=5), timedelta(minutes=10)]
    assert _rows(sessions)[0].state == FAILED
    assert [k for k, _ in alerts] == [ALERT_GAVE_UP]
    assert "3 次尝试" in alerts[0][1]


def test_spam_refusal_fails_the_row_and_alerts_the_office(
    sessions: sessionmaker[Session], smtp_server: SmtpServer, clock: Clock
) -> None:
    """163 refuses one receipt as spam (554 DT:SPM): it fails for good, the next one still goes."""
    _queue(sessions, clock, 2)
    smtp_server.fail_next(Fault.SPAM)
    alerts = Alerts()
    report = _relay(sessions, smtp_server, clock, alert=alerts).run_once()
    assert (report.failed, report.sent) == (1, 1)
    first, second = _rows(sessions)
    assert first.state == FAILED
    assert first.last_error is not None
    assert "DT:SPM" in first.last_error
    assert second.state == SENT
    assert [k for k, _ in alerts] == [ALERT_REFUSED]
    assert "wangqiang.wh@163.com" in alerts[0][1]
    assert "垃圾邮件" in alerts[0][1]


def test_wrong_authorization_code_stops_the_run(
    sessions: sessionmaker[Session], smtp_server: SmtpServer, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """A revoked 授权码 (535): nothing is sent or failed, the office hears once, mail waits."""
    _queue(sessions, clock, 3)
    smtp_server.fail_next(Fault.AUTH, times=2)
    alerts = Alerts()
    relay = _relay(sessions, smtp_server, clock, alert=alerts)
    for _ in range(2):
        report = relay.run_once()
        assert (report.stopped, report.sent, report.failed, report.released) == ("auth", 0, 0, 3)
        assert all(r.state == PENDING and r.attempts == 0 for r in _rows(sessions))
        clock.advance(timedelta(minutes=1))
    assert [k for k, _ in alerts] == [ALERT_AUTH]
    assert "SMTP 授权码错误" in alerts[0][1]
    assert "XINBAO_SMTP_PASSWORD" in alerts[0][1]
    assert sum("stopped (auth)" in r.getMessage() for r in caplog.records) == 1
    assert smtp_server.received == []
    # The code is fixed: everything queued goes out.
    assert relay.run_once().sent == 3
    assert relay.health == "ok"


def test_sender_refused_is_a_config_error_that_stops_the_run(
    sessions: sessionmaker[Session], smtp_server: SmtpServer, clock: Clock
) -> None:
    """163 refuses the envelope sender (553): every row would fail, so none does; the office hears."""
    _queue(sessions, clock, 2)
    smtp_server.fail_next(Fault.SENDER)
    alerts = Alerts()
    relay = _relay(sessions, smtp_server, clock, alert=alerts)
    report = relay.run_once()
    assert (report.stopped, report.failed, report.released) == ("sender", 0, 2)
    assert all(r.state == PENDING and r.attempts == 0 for r in _rows(sessions))
    assert [k for k, _ in alerts] == [ALERT_SENDER]
    assert "[smtp]" in alerts[0][1]
    assert relay.run_once().sent == 2


def test_dropped_connection_mid_data_leaves_the_row_pending(
    sessions: sessionmaker[Session], smtp_server: SmtpServer, clock: Clock
) -> None:
    """The connection drops after the data, before the server's reply: retried, then sent once."""
    _queue(sessions, clock, 2)
    smtp_server.fail_next(Fault.DROP)
    relay = _relay(sessions, smtp_server, clock)
    report = relay.run_once()
    assert (report.retried, report.sent) == (1, 1)  # the second row reconnects and goes out
    first, second = _rows(sessions)
    assert (first.state, first.attempts, second.state) == (PENDING, 1, SENT)
    clock.advance(timedelta(minutes=5))
    assert relay.run_once().sent == 1
    assert sorted(m.raw for m in smtp_server.received) == sorted(r.raw for r in _rows(sessions))


def test_unreachable_server_is_logged_once_and_nothing_is_lost(
    sessions: sessionmaker[Session], clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """smtp.163.com cannot be reached: rows wait untouched, one log line and one alert per outage."""
    _queue(sessions, clock, 2)
    with SmtpServer() as down:
        cfg = down.config(port=free_port())
        alerts = Alerts()
        relay = _relay(sessions, down, clock, cfg=cfg, alert=alerts)
        for _ in range(3):
            report = relay.run_once()
            assert (report.stopped, report.released) == ("unreachable", 2)
            clock.advance(timedelta(minutes=1))
    assert all(r.state == PENDING and r.attempts == 0 for r in _rows(sessions))
    assert [k for k, _ in alerts] == [ALERT_UNREACHABLE]
    assert sum("stopped (unreachable)" in r.getMessage() for r in caplog.records) == 1


def test_crash_after_send_resends_with_the_same_message_id(
    sessions: sessionmaker[Session], smtp_server: SmtpServer, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker A dies after the 250 and before recording it; B takes over when the lease runs out."""
    _queue(sessions, clock, 1)
    a = _relay(sessions, smtp_server, clock, worker_id="a")

    def power_cut(*args: object, **kwargs: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(a, "_finish", power_cut)
    with pytest.raises(RuntimeError, match="power cut"):
        a.run_once()
    (row,) = _rows(sessions)
    assert (row.state, row.claimed_by) == (SENDING, "a")
    b = _relay(sessions, smtp_server, clock, worker_id="b")
    clock.advance(timedelta(minutes=9))
    assert b.run_once().claimed == 0  # A's lease still holds
    clock.advance(timedelta(minutes=2))
    report = b.run_once()
    assert (report.claimed, report.sent) == (1, 1)
    (row,) = _rows(sessions)
    assert (row.state, row.attempts) == (SENT, 2)
    first, again = smtp_server.received
    assert first.raw == again.raw  # same Message-ID: the recipient's client shows one mail


def test_a_row_taken_over_mid_run_is_not_sent_twice(
    sessions: sessionmaker[Session], smtp_server: SmtpServer, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While worker A sends its first receipt, worker B takes A's second row (as after A's lease
    ran out): A, still well inside its lease and so not renewing, notices and leaves it to B."""
    first, second = _queue(sessions, clock, 2)
    a = _relay(sessions, smtp_server, clock, worker_id="a")
    deliver = a._deliver

    def then_taken_over(smtp: Any, row: Any, report: Any) -> Any:
        out = deliver(smtp, row, report)
        with sessions.begin() as s:
            s.execute(sa.update(Outbox).where(Outbox.id == second).values(claimed_by="b"))  # type: ignore[arg-type]
        return out

    monkeypatch.setattr(a, "_deliver", then_taken_over)
    report = a.run_once()
    assert (report.claimed, report.sent) == (2, 1)
    assert len(smtp_server.received) == 1
    states = {r.id: (r.state, r.claimed_by) for r in _rows(sessions)}
    assert states == {first: (SENT, None), second: (SENDING, "b")}


def test_a_slow_run_renews_its_lease_before_each_late_send(
    sessions: sessionmaker[Session], smtp_server: SmtpServer, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run slowed past half its lease (163 answering slowly) extends the lease of each row it is
    about to send, so no other worker takes it up mid-send."""
    _queue(sessions, clock, 2)
    a = _relay(sessions, smtp_server, clock, worker_id="a")
    deliver = a._deliver
    leases: list[object] = []

    def slow(smtp: Any, row: Any, report: Any) -> Any:
        with sessions() as s:
            leases.append(s.get(Outbox, row.id).lease_until)  # type: ignore[union-attr]
        out = deliver(smtp, row, report)
        clock.advance(timedelta(minutes=6))
        return out

    monkeypatch.setattr(a, "_deliver", slow)
    start = clock()
    assert a.run_once().sent == 2
    first_lease, second_lease = (_aware(v) for v in leases)
    assert first_lease == start + a.lease
    assert second_lease == start + timedelta(minutes=6) + a.lease  # renewed when half was gone


def _aware(value: object) -> datetime:
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_a_row_that_keeps_killing_its_worker_is_given_up(
    sessions: sessionmaker[Session], smtp_server: SmtpServer, clock: Clock
) -> None:
    """A row found in `sending` with its lease run out and no attempts left fails, once, reported."""
    _queue(sessions, clock, 1)
    with sessions.begin() as s:
        s.execute(
            sa.update(Outbox).values(
                state=SENDING, claimed_by="dead", attempts=8, lease_until=clock() - timedelta(seconds=1)
            )
        )
    alerts = Alerts()
    report = _relay(sessions, smtp_server, clock, alert=alerts).run_once()
    assert (report.claimed, report.failed) == (0, 1)
    assert _rows(sessions)[0].state == FAILED
    assert [k for k, _ in alerts] == [ALERT_GAVE_UP]
    assert smtp_server.received == []


def test_a_row_claimed_by_another_worker_is_left_alone(
    sessions: sessionmaker[Session], smtp_server: SmtpServer, clock: Clock
) -> None:
    """Two workers on one database: the second finds nothing to claim while the first's lease holds."""
    _queue(sessions, clock, 1)
    with sessions.begin() as s:
        s.execute(
            sa.update(Outbox).values(
                state=SENDING, claimed_by="other", lease_until=clock() + timedelta(minutes=10)
            )
        )
    assert _relay(sessions, smtp_server, clock).run_once().claimed == 0
    assert smtp_server.received == []


@pytest.mark.postgres
def test_postgres_workers_skip_rows_another_worker_is_claiming(
    pg_server: PgServer, smtp_server: SmtpServer, clock: Clock
) -> None:
    """Two relays on PostgreSQL: rows another worker has locked are skipped, never waited on."""
    name = pg_server.create_database()
    # A lock wait would fail the test in two seconds instead of hanging it.
    engine = sa.create_engine(pg_server.url(name), connect_args={"options": "-c lock_timeout=2000"})
    try:
        SQLModel.metadata.create_all(engine)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        first, second = _queue(sessions, clock, 2)
        with engine.connect() as other, other.begin():
            other.execute(sa.select(OUTBOX_TABLE.c.id).where(OUTBOX_TABLE.c.id == first).with_for_update())
            report = _relay(sessions, smtp_server, clock).run_once()
        assert (report.claimed, report.sent) == (1, 1)
        states = {r.id: r.state for r in _rows(sessions)}
        assert states == {first: PENDING, second: SENT}
    finally:
        engine.dispose()
        pg_server.drop_database(name)


def test_daily_cap_defers_auto_replies_to_the_next_day(
    sessions: sessionmaker[Session], smtp_server: SmtpServer, clock: Clock
) -> None:
    """A robot answering our receipts gets two a day; the weekly reminder is never held back."""
    _queue(sessions, clock, 3, to="robot@example.cn")
    _queue(sessions, clock, 1, kind="weekly_shortfall", to="robot@example.cn")
    relay = _relay(sessions, smtp_server, clock, cfg=smtp_server.config(daily_cap_per_recipient=2))
    report = relay.run_once()
    assert (report.sent, report.deferred) == (3, 1)
    held = [r for r in _rows(sessions) if r.state == PENDING]
    assert [r.kind for r in held] == ["receipt"]
    # The next day in Panjin starts at 16:00 UTC.
    assert held[0].next_attempt_at == datetime(2025, 6, 21, 0, 0, tzinfo=CST)
    assert held[0].attempts == 0
    clock.now = datetime(2025, 6, 21, 0, 0, tzinfo=CST)
    assert relay.run_once().sent == 1
    assert len(smtp_server.received) == 4


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # nothing database-specific here
def test_alert_hook_failure_does_not_stop_the_relay(
    sessions: sessionmaker[Session], smtp_server: SmtpServer, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """If reporting a refusal fails, the refusal is still recorded and the rest still goes out."""
    _queue(sessions, clock, 2)
    smtp_server.fail_next(Fault.SPAM)

    def broken(kind: str, text: str) -> None:
        raise OSError("office mailbox full")

    report = _relay(sessions, smtp_server, clock, alert=broken).run_once()
    assert (report.failed, report.sent) == (1, 1)
    assert any("alert hook failed" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # nothing database-specific here
def test_implicit_tls_like_smtp_163_com_465(
    sessions: sessionmaker[Session], clock: Clock, tmp_path: Path
) -> None:
    """The production setting (tls = true, port 465) against a server with a throw-away certificate."""
    contexts = self_signed(tmp_path)
    if contexts is None:
        pytest.skip("openssl is not installed: cannot make a self-signed certificate")
    server_ctx, client_ctx = contexts
    _queue(sessions, clock, 1)
    with SmtpServer(ssl_context=server_ctx) as server:
        relay = _relay(sessions, server, clock, ssl_context=client_ctx)
        assert relay.cfg.tls
        assert relay.run_once().sent == 1
        assert len(server.received) == 1
