"""Memory of `xinbao poll` as the office runs it (a subprocess), sampled from /proc for the daemon and
its guard workers: one 60 MB message under the default 50 MB limit (rejected from its header, never
downloaded) and under a raised limit (fetched and parsed), then a backlog of small messages.

    python -m benchmarks.memory [--backlog 10000] [--big-mb 60] [--skip-big] [--skip-backlog]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from benchmarks.generate import CST, MB, SizeMix, submission, submissions
from benchmarks.servers import Servers, run_dir, servers

SAMPLE_SECONDS = 0.05
RAISED_LIMIT = 100 * MB


@dataclass
class Sample:
    t: float
    main_rss: int
    worker_rss: int  # the largest worker's, at that moment


@dataclass
class PollMemory:
    """One `xinbao poll`: peak RSS (VmHWM) of the daemon and of its worst worker, in bytes."""

    seconds: float
    exit_code: int
    main_peak: int
    worker_peak: int
    workers: int
    samples: list[Sample] = field(default_factory=list)
    imap_out: int | None = None  # bytes Dovecot sent this session, from its log
    raw_stored: int = 0
    stdout: str = ""

    def rss_at(self, fraction: float) -> tuple[int, int]:
        """(daemon, largest worker) RSS at this fraction of the run's duration."""
        at = self.seconds * fraction
        sample = min(self.samples, key=lambda s: abs(s.t - at))
        return sample.main_rss, sample.worker_rss


def _status(pid: int) -> dict[str, int]:
    values: dict[str, int] = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return values
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
    return values


def _workers(pid: int) -> set[int]:
    """The guard workers among the children of every thread of `pid` (the guard starts them from
    pool threads; other children, such as rarfile probing for unar, are left out)."""
    found: set[int] = set()
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            children = Path(f"/proc/{pid}/task/{tid}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            try:
                if b"daemon.guard" in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.add(child)
            except OSError:
                continue
    return found


def watch_poll(config: Path, env: dict[str, str]) -> PollMemory:
    """Run `xinbao --config CONFIG poll` and sample it and its workers until it exits.

    Peaks are the kernel's own high-water marks (VmHWM), so a spike between two samples still
    counts as long as the process lives past one more sample. wait4's ru_maxrss is no help here:
    after fork and exec, Linux carries the forking parent's high-water mark into the child.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "daemon.cli", "--config", str(config), "poll"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    output = bytearray()
    main_peak = 0
    worker_peaks: dict[int, int] = {}
    samples: list[Sample] = []
    while True:
        chunk = proc.stdout.read()
        if chunk:
            output += chunk
        status = _status(proc.pid)
        main_peak = max(main_peak, status.get("VmHWM", 0))
        largest = 0
        for child in _workers(proc.pid):
            st = _status(child)
            worker_peaks[child] = max(worker_peaks.get(child, 0), st.get("VmHWM", 0))
            largest = max(largest, st.get("VmRSS", 0))
        samples.append(Sample(time.perf_counter() - started, status.get("VmRSS", 0), largest))
        pid, wait_status = os.waitpid(proc.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(SAMPLE_SECONDS)
    proc.returncode = os.waitstatus_to_exitcode(wait_status)
    output += proc.stdout.read() or b""
    proc.stdout.close()
    return PollMemory(
        seconds=time.perf_counter() - started,
        exit_code=proc.returncode,
        main_peak=main_peak,
        worker_peak=max(worker_peaks.values(), default=0),
        workers=len(worker_peaks),
        samples=samples,
        stdout=output.decode("utf-8", "replace"),
    )


def _imap_out(srv: Servers, user: str) -> int | None:
    """Bytes Dovecot sent `user` over all its sessions ("Disconnected: ... out=N" in its log)."""
    log = srv.dovecot.root / "dovecot.log"
    sent = [int(m) for m in re.findall(rf"imap\({re.escape(user)}\).*?\bout=(\d+)", log.read_text())]
    return sum(sent) if sent else None


def _stored(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def poll_once(srv: Servers, name: str, messages: list[bytes], *, limits: dict[str, int] | None) -> PollMemory:
    """A fresh mailbox holding `messages`, a fresh ledger, one `xinbao poll` watched from outside."""
    account = srv.fresh_mailbox()
    srv.append(messages)
    account.close()  # the side connection's own bytes must not count in Dovecot's totals
    before = _imap_out(srv, account.user) or 0
    directory = run_dir(srv, name)
    result = watch_poll(srv.write_config(directory, limits=limits), srv.environment())
    # Dovecot logs a session's totals when it ends; the daemon's LOGOUT is done by now.
    time.sleep(0.3)
    after = _imap_out(srv, account.user)
    result.imap_out = None if after is None else after - before
    result.raw_stored = _stored(directory / "raw")
    if result.exit_code != 0:
        raise RuntimeError(f"xinbao poll failed ({result.exit_code}):\n{result.stdout}")
    return result


@dataclass
class BigRuns:
    """Repeated polls of the one big message; figures are medians over the runs."""

    label: str
    runs: list[PollMemory] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return float(statistics.median(getattr(r, attr) or 0 for r in self.runs))


@dataclass
class MemoryResult:
    big_mb: float = 0.0
    too_large: BigRuns | None = None
    raised: BigRuns | None = None
    backlog_count: int = 0
    backlog_mb: float = 0.0
    backlog: PollMemory | None = None


def bench_memory(
    *,
    big_mb: float = 60.0,
    backlog: int = 10000,
    repeat: int = 3,
    seed: int = 8,
    big: bool = True,
    log: bool = True,
) -> MemoryResult:
    """The big message `repeat` times under each limit, then the backlog once."""
    result = MemoryResult()
    with servers() as srv:
        if big:
            rng = random.Random(f"xinbao-bench-big:{seed}")
            raw = submission(rng, target_bytes=int(big_mb * MB), when=datetime(2025, 6, 3, 9, 0, tzinfo=CST))
            result.big_mb = len(raw) / MB
            result.too_large = BigRuns("default 50 MB limit")
            result.raised = BigRuns(f"limit raised to {RAISED_LIMIT // MB} MB")
            for i in range(repeat):
                for runs, limits in (
                    (result.too_large, None),
                    (result.raised, {"max_message_bytes": RAISED_LIMIT}),
                ):
                    runs.runs.append(poll_once(srv, f"big{i}", [raw], limits=limits))
                    if log:
                        print(
                            f"memory: {result.big_mb:.0f} MB message, {runs.label}: {_peaks(runs.runs[-1])}",
                            flush=True,
                        )
            del raw
        if backlog:
            messages = list(submissions(backlog, seed=seed, mix=SizeMix("fixed", 0.1), quick=True))
            result.backlog_count = len(messages)
            result.backlog_mb = sum(map(len, messages)) / MB
            result.backlog = poll_once(srv, "backlog", messages, limits=None)
            del messages
            if log:
                print(f"memory: backlog of {backlog}: {_peaks(result.backlog)}", flush=True)
    return result


def _peaks(m: PollMemory) -> str:
    imap = "?" if m.imap_out is None else f"{m.imap_out / 1024:.0f} KB"
    return (
        f"daemon peak {m.main_peak / MB:.0f} MB, worst worker {m.worker_peak / MB:.0f} MB "
        f"({m.workers} workers), IMAP sent {imap}, raw stored {m.raw_stored / 1024:.0f} KB, {m.seconds:.1f} s"
    )


def backlog_points(b: PollMemory) -> list[tuple[str, int, int]]:
    """(moment, daemon RSS, largest worker RSS) at the start, middle and end of the backlog run."""
    return [(f"{f:.0%}", *b.rss_at(f)) for f in (0.1, 0.5, 0.9)]


def describe(result: MemoryResult) -> str:
    lines = []
    for runs in (result.too_large, result.raised):
        if runs is None:
            continue
        lines.append(
            f"{result.big_mb:.0f} MB message, {runs.label} (median of {len(runs.runs)}): "
            f"daemon {runs.median('main_peak') / MB:.0f} MB, worst worker {runs.median('worker_peak') / MB:.0f} MB; "
            f"IMAP sent {runs.median('imap_out') / 1024:.0f} KB, raw stored {runs.median('raw_stored') / 1024:.0f} KB, "
            f"{runs.median('seconds'):.1f} s"
        )
    if result.backlog is not None:
        b = result.backlog
        points = " / ".join(f"{m / MB:.0f}+{w / MB:.0f}" for _, m, w in backlog_points(b))
        lines.append(
            f"backlog of {result.backlog_count} messages ({result.backlog_mb:.0f} MB): daemon+worker RSS "
            f"at 10%/50%/90% of the run {points} MB; peaks daemon {b.main_peak / MB:.0f} MB, "
            f"worker {b.worker_peak / MB:.0f} MB; {b.seconds:.0f} s"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--big-mb", type=float, default=60.0, help="size of the big message (60)")
    parser.add_argument("--backlog", type=int, default=10000, help="small messages in the backlog (10000)")
    parser.add_argument("--repeat", type=int, default=3, help="polls of the big message per limit (3)")
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--skip-backlog", action="store_true")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args(argv)
    result = bench_memory(
        big_mb=args.big_mb,
        backlog=0 if args.skip_backlog else args.backlog,
        repeat=args.repeat,
        seed=args.seed,
        big=not args.skip_big,
    )
    print(describe(result))


if __name__ == "__main__":
    main()
