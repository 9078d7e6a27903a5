"""Ingestion throughput: a bare imapclient fetch loop (the transport floor) against `xinbao poll`,
side by side on the same Dovecot mailbox, receipts going to a loopback aiosmtpd.

    python -m benchmarks.ingest [--count 200] [--mean-mb 2] [--runs 3] [--workers N] [--profile FILE]

Each run of the poll starts from an empty SQLite ledger and raw store, in-process: `runtime()` as
`xinbao poll` builds it, then one `run_pass()`, then the relay is run until the outbox is empty
(a pass sends at most 50 mails; what a single pass leaves behind is reported). The floor logs in,
SELECTs, UID SEARCHes and fetches BODY.PEEK[] in batches of `mailbox.batch_size`, discarding it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from imapclient import IMAPClient

from benchmarks.generate import MB, SizeMix, submissions
from benchmarks.servers import Servers, run_dir, servers
from benchmarks.stages import ORDER, timing


@dataclass
class Run:
    """One timed run over the whole mailbox."""

    seconds: float
    messages: int
    nbytes: int
    stages: dict[str, float] = field(default_factory=dict)
    stage_cpu: dict[str, float] = field(default_factory=dict)  # the calling thread's CPU seconds
    setup: float = 0.0
    left_after_pass: int = 0
    states: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    receipts: int = 0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds: the daemon's process, its workers

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds

    @property
    def mb_per_second(self) -> float:
        return self.nbytes / MB / self.seconds


@dataclass
class IngestResult:
    messages: int
    nbytes: int
    batch_size: int
    workers: int
    floor: list[Run]
    poll: list[Run]
    quiet_floor: list[Run] = field(default_factory=list)

    def median(self, runs: list[Run]) -> Run:
        """The run of median duration (so its stage split is a real run's, not a mix)."""
        ordered = sorted(runs, key=lambda r: r.seconds)
        return ordered[len(ordered) // 2]

    @property
    def ratio(self) -> float:
        """Throughput of the poll over the floor's, medians of the runs."""
        return self.median(self.floor).seconds / self.median(self.poll).seconds

    @property
    def quiet_ratio(self) -> float:
        """The same against the floor without imaplib's debug formatting."""
        return self.median(self.quiet_floor).seconds / self.median(self.poll).seconds

    def stage_medians(self) -> dict[str, float]:
        found = {k for r in self.poll for k in r.stages}
        names = [k for k in ORDER if k in found] + sorted(found - set(ORDER))
        return {k: statistics.median(r.stages.get(k, 0.0) for r in self.poll) for k in names}

    def stage_cpu_medians(self) -> dict[str, float]:
        """Median thread CPU seconds per stage (0 for the parse: its threads wait on processes)."""
        return {
            k: statistics.median(r.stage_cpu.get(k, 0.0) for r in self.poll) for k in self.stage_medians()
        }


def floor_run(srv: Servers, *, batch_size: int, quiet: bool = False) -> Run:
    """LOGIN, SELECT, UID SEARCH, then BODY.PEEK[] in batches; the bytes are counted and dropped.

    `quiet` turns off imaplib's debug output, which IMAPClient switches on (debug = 5) so that
    imaplib formats the repr() of every literal it receives into a log line, enabled or not.
    """
    started, cpu = time.perf_counter(), time.process_time()
    client = IMAPClient("127.0.0.1", port=srv.account.port, ssl=False, timeout=60)
    if quiet:
        client._imap.debug = 0
    try:
        client.login(srv.account.user, srv.account.password)
        client.select_folder("INBOX")
        uids = client.search(["UID", "1:*"])
        count = nbytes = 0
        for start in range(0, len(uids), batch_size):
            data = client.fetch(uids[start : start + batch_size], ["BODY.PEEK[]"])
            for item in data.values():
                nbytes += len(item[b"BODY[]"])
                count += 1
            del data
    finally:
        # LOGOUT closes the socket; a second close of it would fail.
        with contextlib.suppress(OSError):
            client.logout()
    return Run(time.perf_counter() - started, count, nbytes, cpu={"daemon": time.process_time() - cpu})


def poll_run(
    srv: Servers, name: str, *, workers: int | None, profile: Path | None = None, root: Path | None = None
) -> Run:
    """One pass from an empty ledger, timed stage by stage; then the relay until the outbox is empty.
    `root`: where the run's ledger and raw store go (a tmpfs shows what the disk costs)."""
    import resource

    from daemon.models import Message
    from daemon.runtime import runtime
    from outbox.table import OUTBOX_TABLE, PENDING

    config = srv.config(run_dir(srv, name, root=root))
    sent_before = srv.smtp.received
    profiler = None
    with timing() as clock:
        started = time.perf_counter()
        with runtime(config, workers=workers) as rt:
            setup = time.perf_counter() - started
            if profile is not None:
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            started = time.perf_counter()
            usage = resource.getrusage(resource.RUSAGE_SELF)
            workers_before = _children_cpu(exclude=srv.smtp.pid)
            report = rt.poller.run_pass()
            relay_in_pass = clock.seconds["relay"]
            pending = _count(rt.engine, OUTBOX_TABLE.c.state == PENDING)
            assert rt.poller.relay is not None
            while rt.poller.relay.run_once().claimed:
                pass
            seconds = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_SELF)
            cpu = {
                "daemon": after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime,
                "workers": _children_cpu(exclude=srv.smtp.pid) - workers_before,
            }
            if profiler is not None:
                profiler.disable()
            with rt.engine.connect() as conn:
                nbytes = int(conn.execute(sa.select(sa.func.sum(Message.size))).scalar_one() or 0)
                outcome: sa.ColumnClause[str] = sa.column("outcome")
                by_outcome = (
                    sa.select(outcome, sa.func.count()).select_from(sa.table("messages")).group_by(outcome)
                )
                outcomes = {str(k): int(n) for k, n in conn.execute(by_outcome).all()}
            left = _count(rt.engine, OUTBOX_TABLE.c.state != "sent")
    if report.error or left:
        raise RuntimeError(f"poll run {name} did not finish: error={report.error!r}, unsent={left}")
    if profiler is not None and profile is not None:
        profiler.dump_stats(profile)
    stages = clock.split()
    stages["relay"] = relay_in_pass
    stages["relay after pass"] = clock.seconds["relay"] - relay_in_pass
    return Run(
        seconds,
        report.fetched,
        nbytes,
        stages=stages,
        stage_cpu={k: v for k, v in clock.cpu.items() if k != "parse"},
        setup=setup,
        left_after_pass=pending,
        states=dict(report.states),
        outcomes=outcomes,
        receipts=srv.smtp.received - sent_before,
        cpu=cpu,
    )


def _children_cpu(*, exclude: int | None) -> float:
    """CPU seconds used so far by this process's live children (the guard workers), from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path("/proc/self/task").iterdir():
        for pid in (task / "children").read_text().split():
            if int(pid) == exclude:
                continue
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def _count(engine: sa.Engine, where: sa.ColumnElement[bool]) -> int:
    from outbox.table import OUTBOX_TABLE

    with engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(OUTBOX_TABLE).where(where)).scalar_one()
        )


def bench_ingest(
    *,
    count: int = 200,
    mix: SizeMix = SizeMix(),  # noqa: B008 (frozen)
    runs: int = 3,
    workers: int | None = None,
    seed: int = 8,
    profile: Path | None = None,
    log: bool = True,
    root: Path | None = None,
) -> IngestResult:
    """Fill a fresh mailbox with `count` generated messages, then alternate floor and poll runs."""
    import os

    with servers() as srv:
        started = time.perf_counter()
        appended, total = srv.append(submissions(count, seed=seed, mix=mix))
        if log:
            print(
                f"ingest: {appended} messages, {total / MB:.0f} MB generated and appended "
                f"in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
        batch = srv.config(srv.scratch).mailbox.batch_size
        floors, quiet, polls = [], [], []
        for i in range(runs):
            floors.append(floor_run(srv, batch_size=batch))
            quiet.append(floor_run(srv, batch_size=batch, quiet=True))
            polls.append(
                poll_run(srv, f"run{i}", workers=workers, profile=profile if i == 0 else None, root=root)
            )
            if log:
                f, p = floors[-1], polls[-1]
                print(
                    f"  run {i + 1}: floor {f.seconds:.2f} s ({f.per_second:.1f} msg/s), "
                    f"quiet floor {quiet[-1].seconds:.2f} s, "
                    f"poll {p.seconds:.2f} s ({p.per_second:.1f} msg/s; CPU {p.cpu['daemon']:.1f} s "
                    f"daemon + {p.cpu['workers']:.1f} s workers), outcomes {p.outcomes}",
                    flush=True,
                )
        if root is not None:  # a tmpfs holds memory: leave nothing behind in it
            for i in range(runs):
                shutil.rmtree(root / f"run{i}", ignore_errors=True)
        workers = workers or min(2, os.cpu_count() or 1)
        return IngestResult(appended, total, batch, workers, floors, polls, quiet)


def describe(result: IngestResult) -> str:
    f, q, p = result.median(result.floor), result.median(result.quiet_floor), result.median(result.poll)
    lines = [
        f"{result.messages} messages, {result.nbytes / MB:.0f} MB (mean {result.nbytes / result.messages / MB:.2f} MB), "
        f"batch {result.batch_size}, {result.workers} parse workers, median of {len(result.poll)} runs",
        f"transport floor: {f.seconds:6.2f} s  {f.per_second:6.1f} msg/s  {f.mb_per_second:6.1f} MB/s",
        f"  (debug off):   {q.seconds:6.2f} s  {q.per_second:6.1f} msg/s  {q.mb_per_second:6.1f} MB/s",
        f"xinbao poll:     {p.seconds:6.2f} s  {p.per_second:6.1f} msg/s  {p.mb_per_second:6.1f} MB/s"
        f"  (+ {p.setup:.2f} s creating the database)",
        f"ratio poll/floor: {result.ratio:.2f} (against the debug-off floor: {result.quiet_ratio:.2f})",
        f"receipts left unsent after the single pass: {p.left_after_pass} of {p.receipts}",
        "stage split (median seconds, wall and the stage's thread CPU; parse is summed over the workers):",
    ]
    cpu = result.stage_cpu_medians()
    lines += [
        f"  {k:<18} {v:7.2f}" + (f"  cpu {cpu[k]:6.2f}" if cpu.get(k) else "")
        for k, v in result.stage_medians().items()
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=200, help="messages in the mailbox (200)")
    parser.add_argument("--mean-mb", type=float, default=2.0, help="mean message size in MB (2)")
    parser.add_argument("--min-mb", type=float, default=0.5)
    parser.add_argument("--max-mb", type=float, default=20.0)
    parser.add_argument("--sizes", default="lognormal", choices=("lognormal", "uniform", "fixed"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="parse workers (default: as xinbao)")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--profile", type=Path, help="cProfile the first poll run's main process here")
    parser.add_argument(
        "--ledger-root",
        type=Path,
        help="put each run's ledger and raw store here (e.g. /dev/shm/xinbao-bench)",
    )
    args = parser.parse_args(argv)
    mix = SizeMix(args.sizes, args.mean_mb, args.min_mb, args.max_mb)
    result = bench_ingest(
        count=args.count,
        mix=mix,
        runs=args.runs,
        workers=args.workers,
        seed=args.seed,
        profile=args.profile,
        root=args.ledger_root,
    )
    print(describe(result))


if __name__ == "__main__":
    main()
