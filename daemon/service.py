"""`xinbao run`: the daemon. APScheduler 3.x in Asia/Shanghai runs the polling pass (fetch,
process, acknowledge, relay) every poll interval, and every few minutes asks whether the weekly
reminder or the monthly notice is due (daemon.notices); SIGTERM or Ctrl-C finishes the message in
hand and exits. Whether a notice is due is decided from the ledger's outbox keys, so a restart
never needs pickled job state: a missed run is simply due on start, and sent once.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import datetime, timedelta
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler

from daemon import notices
from daemon.mailbox import MailboxError
from daemon.runtime import Runtime

log = logging.getLogger(__name__)

NOTICE_CHECK = timedelta(minutes=5)
# The first check waits for the first poll pass, so drafts that came in while the daemon was
# down are counted before a notice missed meanwhile goes out.
NOTICE_FIRST_CHECK = timedelta(seconds=60)


def serve(rt: Runtime, *, stop: threading.Event | None = None) -> None:
    """Run until `stop` is set (by SIGTERM/SIGINT when called from the main thread)."""
    stop = stop or threading.Event()
    rt.poller.stop = stop
    schedule = notices.schedule_from_config(rt.config)  # a bad [schedule] stops the start (ConfigError)
    if threading.current_thread() is threading.main_thread():

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %s: finishing the current message, then stopping", signum)
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    scheduler = BackgroundScheduler(timezone=rt.config.timezone)
    scheduler.add_job(
        lambda: _watch(rt, stop),
        "interval",
        seconds=rt.config.mailbox.poll_seconds,
        id="poll",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(scheduler.timezone),
    )
    if schedule.enabled:
        scheduler.add_job(
            lambda: _notices(rt),
            "interval",
            seconds=NOTICE_CHECK.total_seconds(),
            id="notices",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(scheduler.timezone) + NOTICE_FIRST_CHECK,
        )
    scheduler.start()
    log.info(
        "xinbao daemon started: polling %s every %d s", rt.config.mailbox.user, rt.config.mailbox.poll_seconds
    )
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)
        log.info("xinbao daemon stopped")


def _watch(rt: Runtime, stop: threading.Event) -> None:
    """One poll interval: a pass, then, where the server offers IDLE (163 does not), passes as soon
    as new mail is announced until the interval is nearly over."""
    _pass(rt)
    mailbox = rt.poller.mailbox
    interval = rt.config.mailbox.poll_seconds
    deadline = time.monotonic() + interval * 0.9
    while mailbox is not None and not stop.is_set() and time.monotonic() < deadline:
        try:
            if not mailbox.supports_idle():
                return
            mailbox.idle_or_sleep(deadline - time.monotonic(), stop)
        except MailboxError as exc:
            log.warning("IDLE on %s failed: %s", mailbox.where, exc)
            return
        if not stop.is_set():
            _pass(rt)


def _pass(rt: Runtime) -> None:
    try:
        report = rt.poller.run_pass()
    except Exception:
        log.exception("polling pass failed")
        return
    if report.fetched or report.sent or report.error:
        log.info(
            "pass: fetched %d, states %s, acknowledged %d, sent %d, failed sends %d%s",
            report.fetched,
            dict(report.states),
            report.acknowledged,
            report.sent,
            report.failed_sends,
            f", error: {report.error}" if report.error else "",
        )


def _notices(rt: Runtime) -> None:
    """Queue the weekly reminder or monthly notice if one is due; the next pass's relay sends it."""
    try:
        notices.run_due(rt.engine, rt.config, now=rt.poller.clock())
    except Exception:
        log.exception("scheduled reminder/notice failed; retried at the next check")
