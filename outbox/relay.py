"""The SMTP relay: claim due outbox rows, send them over one connection, mark each one sent.

Claiming is a short transaction that moves due rows (`pending` whose `next_attempt_at` has come,
or `sending` whose lease expired) to `sending` with `lease_until` and `claimed_by`, counting the
attempt. PostgreSQL selects them `FOR UPDATE SKIP LOCKED`, so workers never wait on each other;
on SQLite, which has one writer at a time, the conditional `UPDATE … WHERE <still due>` is the
guard. Before each send the worker renews its lease (and skips the row if it is no longer its
own); after the server's 250 it marks the row `sent` in a transaction of its own, which does not
wait for the disk (`daemon.db.lazy_commit`: it survives a killed process, and a power cut at worst
undoes the mark, which means one more send of the same message, as below).

The one ambiguous window: a crash (or lost database) after the server's 250 and before the
`sent` commit is on disk leaves the row in `sending`. When its lease expires another run claims it
and sends it again, as-is, with the same Message-ID, so the recipient's client shows one message.
We never drop mail to avoid a duplicate; the `ambiguous` state is not written by the relay. The
same holds for a connection lost after the final "." and before the reply. A row that keeps
killing its worker is bounded by the attempt count like any other failure.

Failures, by the server's reply:
- 4xx, a dropped connection or a timeout: back to `pending` with exponential backoff; after
  `max_attempts` attempts the row is `failed` and the office is alerted.
- 530/534/535 (authentication; 163 answers 535 to a wrong or revoked 授权码): the run stops,
  every claimed row goes back to `pending` untouched, the operator log and the alert hook hear
  of it once, not again until a login succeeds.
- MAIL FROM refused with 5xx (163: "553 Mail from must equal authorized user"): a config error
  that would fail every row, so it stops the run like a failed login.
- other 5xx (550/553/554 to RCPT or DATA, including 163's `554 DT:SPM` spam refusal): `failed`
  at once, and the office is alerted.
- the server cannot be reached at all: the run stops, rows go back to `pending`, logged once.
Outages are logged once per change of state (healthy → degraded/unreachable/auth → healthy),
never once per row.

Daily cap: at most `SmtpConfig.daily_cap_per_recipient` automatic replies (`capped_kinds`:
receipts, rejections, unknown-sender replies) go to one address per day (Asia/Shanghai), so a
mail loop with another robot ends quickly. A capped row stays `pending` with `next_attempt_at`
at the next midnight; reminders and notices are never capped.

The envelope sender is always `SmtpConfig.user`: 163 refuses MAIL FROM other than the login.
The `alert(kind, text)` hook (kinds `ALERT_*` below, text in Chinese for the office) is called
outside the relay's transactions, so it may queue an `office/alert` mail itself.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from daemon.config import SmtpConfig
from daemon.db import lazy_commit
from daemon.failpoints import failpoint
from outbox.table import FAILED, OUTBOX_TABLE, PENDING, SENDING, SENT

log = logging.getLogger(__name__)

SHANGHAI = ZoneInfo("Asia/Shanghai")
AUTO_REPLY_KINDS = frozenset({"receipt", "rejection", "unknown_sender", "held", "details"})
AUTH_CODES = frozenset({530, 534, 535})
# Alert kinds handed to the `alert` hook with a Chinese text for the office.
ALERT_AUTH = "smtp_auth"
ALERT_UNREACHABLE = "smtp_unreachable"
ALERT_REFUSED = "smtp_refused"
ALERT_GAVE_UP = "smtp_gave_up"
ALERT_SENDER = "smtp_sender"

T = OUTBOX_TABLE.c


@dataclass
class RelayReport:
    """What one run did; `stopped` is "auth", "sender" or "unreachable" when the run ended early."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0
    released: int = 0
    stopped: str | None = None


class _StopError(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class Relay:
    """Sends what the outbox holds; one instance per worker, `run_once` called periodically."""

    def __init__(
        self,
        engine_or_sessionmaker: Engine | sessionmaker[Session],
        smtp_cfg: SmtpConfig,
        *,
        password: str,
        worker_id: str,
        clock: Callable[[], datetime],
        smtp_factory: Callable[[], smtplib.SMTP] | None = None,
        alert: Callable[[str, str], None] | None = None,
        lease: timedelta = timedelta(minutes=10),
        max_attempts: int = 8,
        backoff: timedelta = timedelta(minutes=5),
        max_backoff: timedelta = timedelta(hours=6),
        capped_kinds: frozenset[str] = AUTO_REPLY_KINDS,
        tz: tzinfo = SHANGHAI,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if isinstance(engine_or_sessionmaker, Engine):
            engine_or_sessionmaker = sessionmaker(bind=engine_or_sessionmaker, expire_on_commit=False)
        self._sessions = engine_or_sessionmaker
        self.cfg = smtp_cfg
        self._password = password
        self.worker_id = worker_id
        self._clock = clock
        self._factory = smtp_factory
        self._alert = alert
        self.lease = lease
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.capped_kinds = capped_kinds
        self.tz = tz
        self._ssl_context = ssl_context
        self.health = "ok"  # ok | degraded | unreachable | auth | sender

    def run_once(self, limit: int = 50) -> RelayReport:
        """Claim up to `limit` due rows and try each once."""
        report = RelayReport()
        self._expire_dead_claims()
        queue = self._claim(limit, report)
        # Until half the lease is gone no other worker can take our rows: no need to renew.
        renew_after = self._clock() + self.lease / 2
        failpoint("relay_claimed")
        smtp: smtplib.SMTP | None = None
        try:
            while queue:
                if smtp is not None and getattr(smtp, "sock", True) is None:
                    smtp = None  # the server closed it (421, or after a failed RSET)
                try:
                    if smtp is None:
                        smtp = self._connect()
                    row = self._renew(queue.pop(0), write=self._clock() >= renew_after)
                    if row is not None:
                        smtp = self._deliver(smtp, row, report)
                except _StopError as stop:
                    report.released += self._release(queue)
                    report.stopped = stop.reason
                    self._stopped(stop)
                    break
        finally:
            if smtp is not None:
                _quit(smtp)
        return report

    # --- claiming -------------------------------------------------------------------------

    def _expire_dead_claims(self) -> None:
        """End the leases of workers on this host that are gone (killed, not stopped).

        A claim is `host:pid`; a crashed worker's rows need not wait out their lease: they are
        resent now, as-is, which is the documented ambiguous window.
        """
        host, _, _ = self.worker_id.rpartition(":")
        if not host:
            return
        with self._sessions.begin() as s:
            rows = s.execute(
                sa.select(T.id, T.claimed_by).where(T.state == SENDING, T.claimed_by.like(f"{host}:%"))
            ).all()
            dead = [r.id for r in rows if r.claimed_by != self.worker_id and not _alive(r.claimed_by)]
            if dead:
                log.warning("outbox %s: claimed by a worker that died; resending", dead)
                s.execute(sa.update(OUTBOX_TABLE).where(T.id.in_(dead)).values(lease_until=self._clock()))

    def _due(self, now: datetime) -> Any:
        pending = sa.and_(T.state == PENDING, sa.or_(T.next_attempt_at.is_(None), T.next_attempt_at <= now))
        return sa.or_(pending, sa.and_(T.state == SENDING, T.lease_until <= now))

    def _claim(self, limit: int, report: RelayReport) -> list[int]:
        now = self._clock()
        due = self._due(now)
        claimed: list[int] = []
        given_up: list[Any] = []
        with self._sessions.begin() as s:
            q = sa.select(T.id, T.kind, T.recipient, T.subject, T.state, T.attempts, T.claimed_by)
            q = q.where(due).order_by(T.id).limit(limit)
            if s.get_bind().dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            for r in s.execute(q).all():
                where = sa.and_(T.id == r.id, due)
                if r.kind in self.capped_kinds and self._over_cap(s, r.id, r.recipient, now):
                    tomorrow = datetime.combine(
                        now.astimezone(self.tz).date() + timedelta(days=1), time(), self.tz
                    )
                    values: dict[str, Any] = {"state": PENDING, "lease_until": None, "claimed_by": None}
                    s.execute(sa.update(OUTBOX_TABLE).where(where).values(next_attempt_at=tomorrow, **values))
                    report.deferred += 1
                    log.warning(
                        "outbox %s: daily cap for %s reached, deferred to %s", r.id, r.recipient, tomorrow
                    )
                    continue
                if r.state == SENDING and r.attempts >= self.max_attempts:
                    self._finish(s, r.id, FAILED, f"gave up after {r.attempts} attempts (lease expired)")
                    report.failed += 1
                    given_up.append(r)
                    continue
                if r.state == SENDING:
                    log.warning("outbox %s: lease of %s expired; resending as-is", r.id, r.claimed_by)
                claim = {"state": SENDING, "lease_until": now + self.lease, "claimed_by": self.worker_id}
                res = s.execute(sa.update(OUTBOX_TABLE).where(where).values(attempts=T.attempts + 1, **claim))
                if res.rowcount == 1:  # type: ignore[attr-defined]
                    claimed.append(r.id)
        # Alerts only after the commit: the hook may well queue mail itself.
        for r in given_up:
            self._gave_up(r, "发送过程中断（发送进程意外退出）")
        report.claimed = len(claimed)
        return claimed

    def _over_cap(self, s: Session, row_id: int, recipient: str, now: datetime) -> bool:
        start = datetime.combine(now.astimezone(self.tz).date(), time(), self.tz)
        today = sa.or_(sa.and_(T.state == SENT, T.sent_at >= start), T.state == SENDING)
        q = sa.select(sa.func.count()).where(
            T.recipient == recipient, T.kind.in_(self.capped_kinds), T.id != row_id, today
        )
        return int(s.execute(q).scalar_one()) >= self.cfg.daily_cap_per_recipient

    def _renew(self, row_id: int, *, write: bool = True) -> Any:
        """The row to send, extending our lease first if `write`; None when it is no longer ours."""
        now = self._clock()
        with self._sessions.begin() as s:
            mine = sa.and_(T.id == row_id, T.state == SENDING, T.claimed_by == self.worker_id)
            if write:
                res = s.execute(sa.update(OUTBOX_TABLE).where(mine).values(lease_until=now + self.lease))
                owned = res.rowcount == 1  # type: ignore[attr-defined]
            else:
                owned = s.execute(sa.select(T.id).where(mine, T.lease_until > now)).first() is not None
            if not owned:
                log.warning("outbox %s: lease lost before sending; another worker has it", row_id)
                return None
            q = sa.select(T.id, T.recipient, T.raw, T.attempts, T.subject).where(T.id == row_id)
            return s.execute(q).one()

    def _release(self, ids: list[int]) -> int:
        """Hand claimed rows back untried: the attempt is not counted."""
        if not ids:
            return 0
        mine = sa.and_(T.id.in_(ids), T.state == SENDING, T.claimed_by == self.worker_id)
        back = {"state": PENDING, "lease_until": None, "claimed_by": None, "attempts": T.attempts - 1}
        with self._sessions.begin() as s:
            res = s.execute(sa.update(OUTBOX_TABLE).where(mine).values(**back))
            return int(res.rowcount)  # type: ignore[attr-defined]

    def _finish(self, s: Session, row_id: int, state: str, error: str | None, **extra: Any) -> None:
        values = {"state": state, "lease_until": None, "claimed_by": None, "last_error": error, **extra}
        s.execute(sa.update(OUTBOX_TABLE).where(T.id == row_id, T.state != SENT).values(**values))

    # --- sending --------------------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        cfg = self.cfg
        smtp: smtplib.SMTP | None = None
        try:
            if self._factory is not None:
                smtp = self._factory()
            elif cfg.tls:
                context = self._ssl_context or ssl.create_default_context()
                smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_seconds, context=context)
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
                if cfg.starttls:
                    smtp.starttls(context=self._ssl_context or ssl.create_default_context())
            smtp.ehlo_or_helo_if_needed()
            if self._password:
                smtp.login(cfg.user, self._password)
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPNotSupportedError) as exc:
            _close(smtp)
            raise _StopError("auth", _describe(exc)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            _close(smtp)
            raise _StopError("unreachable", _describe(exc)) from exc
        if self.health in ("unreachable", "auth", "sender"):
            log.warning("SMTP %s:%s reachable again (was %s)", cfg.host, cfg.port, self.health)
            self.health = "ok"
        return smtp

    def _deliver(self, smtp: smtplib.SMTP, row: Any, report: RelayReport) -> smtplib.SMTP | None:
        """Send one row; returns the connection to reuse, or None when it is gone."""
        try:
            smtp.sendmail(self.cfg.user, [row.recipient], row.raw)
        except smtplib.SMTPSenderRefused as exc:
            if exc.smtp_code >= 500:
                # MAIL FROM refused for good (163: "553 Mail from must equal authorized user"):
                # a config error that would fail every row, so the run stops instead.
                report.released += self._release([row.id])
                raise _StopError("sender", _describe(exc)) from exc
            self._retry(row, _describe(exc), report)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            self._failed_reply(row, code, text, report)
        except smtplib.SMTPResponseException as exc:
            self._failed_reply(row, exc.smtp_code, exc.smtp_error, report)
            if exc.smtp_code == 421:
                _close(smtp)
                return None
        except (smtplib.SMTPException, OSError) as exc:
            # Dropped connection or timeout: the server never confirmed, so it is retried.
            self._retry(row, _describe(exc), report)
            _close(smtp)
            return None
        else:
            failpoint("relay_sent")
            now = self._clock()
            with self._sessions.begin() as s:
                # Not waiting for the disk: losing this mark in a power cut means one more send.
                lazy_commit(s)
                self._finish(s, row.id, SENT, None, sent_at=now)
            report.sent += 1
            if self.health != "ok":
                log.warning("SMTP delivering again (was %s)", self.health)
                self.health = "ok"
        return smtp

    def _failed_reply(self, row: Any, code: int, text: bytes | str, report: RelayReport) -> None:
        reply = f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
        if code in AUTH_CODES:
            # Authentication asked for mid-session: treat like a failed login, the row untried.
            self._release([row.id])
            report.released += 1
            raise _StopError("auth", reply)
        if 400 <= code < 500:
            self._retry(row, reply, report)
            return
        with self._sessions.begin() as s:
            self._finish(s, row.id, FAILED, reply)
        report.failed += 1
        log.error("outbox %s to %s refused permanently: %s", row.id, row.recipient, reply)
        spam = "（发信服务器判定为垃圾邮件）" if "DT:SPM" in reply else ""
        self._notify(
            ALERT_REFUSED,
            f"发往 {row.recipient} 的邮件“{row.subject}”被发信服务器拒绝{spam}，已停止发送。服务器答复：{reply}",
        )

    def _retry(self, row: Any, error: str, report: RelayReport) -> None:
        if self.health == "ok":
            log.warning("SMTP delivery degraded: %s", error)
            self.health = "degraded"
        if row.attempts >= self.max_attempts:
            with self._sessions.begin() as s:
                self._finish(s, row.id, FAILED, f"gave up after {row.attempts} attempts: {error}")
            report.failed += 1
            self._gave_up(row, error)
            return
        delay = min(self.backoff * 2 ** max(row.attempts - 1, 0), self.max_backoff)
        with self._sessions.begin() as s:
            self._finish(s, row.id, PENDING, error, next_attempt_at=self._clock() + delay)
        report.retried += 1
        log.info("outbox %s to %s: retry in %s (%s)", row.id, row.recipient, delay, error)

    def _gave_up(self, row: Any, error: str) -> None:
        log.error("outbox %s to %s: gave up after %s attempts", row.id, row.recipient, row.attempts)
        self._notify(
            ALERT_GAVE_UP,
            f"发往 {row.recipient} 的邮件“{row.subject}”经 {row.attempts} 次尝试仍未发出，已停止发送。最后一次错误：{error}",
        )

    def _stopped(self, stop: _StopError) -> None:
        """Log and alert once per change of state, not once per run or row."""
        if self.health == stop.reason:
            return
        self.health = stop.reason
        cfg = self.cfg
        log.error("SMTP run stopped (%s): %s; mail waits in the outbox", stop.reason, stop.detail)
        pause = "回执和通知暂停发送，待发邮件保留在队列中。"
        texts = {
            "auth": (
                ALERT_AUTH,
                f"SMTP 授权码错误：发信服务器 {cfg.host} 拒绝了 {cfg.user} 的登录（{stop.detail}），{pause}"
                f"请在邮箱设置中重新生成授权码，更新环境变量 {cfg.password_env} 后重启服务。",
            ),
            "sender": (
                ALERT_SENDER,
                f"发信服务器不接受以 {cfg.user} 作为发件人（{stop.detail}），{pause}"
                "请确认配置 [smtp] 中的 user 与登录的邮箱账号完全一致。",
            ),
            "unreachable": (
                ALERT_UNREACHABLE,
                f"无法连接发信服务器 {cfg.host}:{cfg.port}（{stop.detail}），{pause}恢复后将自动发送。",
            ),
        }
        self._notify(*texts[stop.reason])

    def _notify(self, kind: str, text: str) -> None:
        if self._alert is None:
            return
        try:
            self._alert(kind, text)
        except Exception:
            # A broken alert hook must never stop the relay; the traceback goes to the log.
            log.exception("alert hook failed for %s", kind)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        err = exc.smtp_error
        return f"{exc.smtp_code} {err.decode('utf-8', 'replace') if isinstance(err, bytes) else err}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        _close(smtp)


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        try:
            smtp.close()
        except OSError:
            log.debug("closing the SMTP connection failed", exc_info=True)


def _alive(worker_id: str | None) -> bool:
    """Whether the local process named by a `host:pid` claim still runs."""
    pid = (worker_id or "").rpartition(":")[2]
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
