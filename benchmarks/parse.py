"""Parse speed and memory, on demand: the generated mix parsed in-process, and one big message.

    python -m benchmarks.parse [--count 200] [--seed 8] [--profile] [--big-mb 60] [--skip-big]

The mix (benchmarks.generate, the 200-message mix of docs/performance.md by default) is parsed as
the guard worker parses it, `parse_message` with default limits and no converter, and timed per
message and for the MIME layer alone (`read_message`); `--profile` adds the cProfile entries that
cost most. The big message is parsed with `max_message_bytes` raised to 100 MB twice, each time in
a fresh process: a child of this benchmark that reads it from a file (peak tracemalloc of the parse,
peak RSS of the process) and a guard worker fed by `Guard.parse` (peak RSS, as the daemon runs it).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from benchmarks.generate import CST, MB, submission, submissions
from parsers.message import read_message
from parsers.submission import parse_message
from parsers.types import Limits

RAISED = Limits(max_message_bytes=100 * MB)


@dataclass
class MixResult:
    count: int
    total_bytes: int
    parse_seconds: list[float]
    mime_seconds: list[float]
    profile: str = ""

    def line(self) -> str:
        total = sum(self.parse_seconds)
        mime = sum(self.mime_seconds)
        mean_mb = self.total_bytes / self.count / MB
        return (
            f"mix: {self.count} messages, {self.total_bytes / MB:.0f} MB (mean {mean_mb:.2f} MB): "
            f"parse_message {total / self.count * 1000:.1f} ms a message "
            f"(median {statistics.median(self.parse_seconds) * 1000:.1f} ms), "
            f"{self.total_bytes / MB / total:.0f} MB/s; "
            f"read_message alone {mime / self.count * 1000:.1f} ms a message"
        )


def bench_mix(count: int, *, seed: int = 8, profile: bool = False) -> MixResult:
    """Every message parsed once for the MIME layer, once whole; the generation is not timed."""
    messages = list(submissions(count, seed=seed))
    limits = Limits()
    mime: list[float] = []
    parse: list[float] = []
    for raw in messages:
        started = time.perf_counter()
        read_message(raw, limits=limits)
        mime.append(time.perf_counter() - started)
    for raw in messages:
        started = time.perf_counter()
        parse_message(raw, limits=limits, convert=None)
        parse.append(time.perf_counter() - started)
    result = MixResult(len(messages), sum(map(len, messages)), parse, mime)
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for raw in messages:
            parse_message(raw, limits=limits, convert=None)
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        result.profile = out.getvalue()
    return result


def big_message(big_mb: float, *, seed: int = 8) -> bytes:
    """The big message of benchmarks.memory: one publicist's mail of about `big_mb` MB."""
    rng = random.Random(f"xinbao-bench-big:{seed}")
    return submission(rng, target_bytes=int(big_mb * MB), when=datetime(2025, 6, 3, 9, 0, tzinfo=CST))


def _peak_rss(pid: int) -> int:
    """VmHWM of a process, in bytes (0 where /proc is not there)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((x for x in status.splitlines() if x.startswith("VmHWM:")), "VmHWM: 0 kB")
    return int(line.split()[1]) * 1024


def _child(path: str) -> None:
    """In a fresh process: one parse of the message in `path`, its figures as JSON on stdout."""
    import tracemalloc

    raw = Path(path).read_bytes()
    before = _peak_rss(os.getpid())
    tracemalloc.start()
    started = time.perf_counter()
    parsed = parse_message(raw, limits=RAISED, convert=None)
    seconds = time.perf_counter() - started
    _, traced = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figures = {
        "seconds": seconds,
        "traced_peak": traced,
        "rss_before": before,
        "rss_peak": _peak_rss(os.getpid()),
        "drafts": len(parsed.drafts),
    }
    print(json.dumps(figures))


def _guard_peak(raw: bytes) -> tuple[float, int]:
    """(seconds, worker peak RSS) of one Guard.parse of `raw` with the limit raised, as the daemon runs it."""
    from daemon.guard import Guard

    with Guard(limits=RAISED, workers=1, convert=False) as guard:
        started = time.perf_counter()
        guard.parse(raw)
        seconds = time.perf_counter() - started
        workers = [
            int(pid)
            for task in os.listdir(f"/proc/{os.getpid()}/task")
            for pid in Path(f"/proc/{os.getpid()}/task/{task}/children").read_text().split()
        ]
        return seconds, max((_peak_rss(pid) for pid in workers), default=0)


def bench_big(big_mb: float, *, seed: int = 8) -> str:
    raw = big_message(big_mb, seed=seed)
    with tempfile.NamedTemporaryFile(suffix=".eml") as f:
        f.write(raw)
        f.flush()
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.parse", "--child", f.name],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    child = json.loads(out)
    guard_seconds, worker_peak = _guard_peak(raw)
    return (
        f"big: {len(raw) / MB:.1f} MB message, limit raised to 100 MB: parse_message "
        f"{child['seconds']:.2f} s, tracemalloc peak +{child['traced_peak'] / MB:.0f} MB, "
        f"process RSS {child['rss_before'] / MB:.0f} MB before the parse, peak {child['rss_peak'] / MB:.0f} MB; "
        f"guard worker: {guard_seconds:.2f} s, peak RSS {worker_peak / MB:.0f} MB"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=200, help="messages in the mix (200)")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--profile", action="store_true", help="cProfile's top entries for the mix")
    parser.add_argument("--big-mb", type=float, default=60.0, help="size of the big message (60)")
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child)
        return
    if args.count:
        mix = bench_mix(args.count, seed=args.seed, profile=args.profile)
        print(mix.line(), flush=True)
        if mix.profile:
            print(mix.profile, flush=True)
    if not args.skip_big:
        print(bench_big(args.big_mb, seed=args.seed), flush=True)


if __name__ == "__main__":
    main()
