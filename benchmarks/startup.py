"""CLI start-up: wall time of `xinbao --help` (median of 10) and the imports that dominate it.

    python -m benchmarks.startup [--runs 10]

Runs with a bytecode cache (PYTHONPYCACHEPREFIX in a temp dir), as an installed xinbao has: the
project's own modules otherwise get compiled on every start where PYTHONDONTWRITEBYTECODE is set
(this build machine sets it), which is timed too. Also timed, as a what-if that needs no code
change: TYPER_USE_RICH=0, which makes Typer print help through Click's plain formatter instead of
importing rich (typer.rich_utils).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

XINBAO = Path(sys.executable).parent / "xinbao"
_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


@dataclass
class StartupResult:
    runs: list[float]
    plain_runs: list[float]
    uncached_runs: list[float]
    # (module, cumulative seconds) of the imports done at the top level, largest first
    top_level: list[tuple[str, float]] = field(default_factory=list)
    # (module, self seconds) of every import, largest first
    by_self: list[tuple[str, float]] = field(default_factory=list)
    total_import: float = 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def plain_median(self) -> float:
        return statistics.median(self.plain_runs)

    @property
    def uncached_median(self) -> float:
        return statistics.median(self.uncached_runs)


def _wall(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def import_times(env: dict[str, str]) -> tuple[list[tuple[str, float]], list[tuple[str, float]], float]:
    """`python -X importtime -m daemon.cli --help`, read back: top-level imports by cumulative time,
    all imports by their own time, and the sum of the top level."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "daemon.cli", "--help"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    top: list[tuple[str, float]] = []
    own: list[tuple[str, float]] = []
    for line in done.stderr.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        self_us, cumulative_us, indent, module = match.groups()
        own.append((module, int(self_us) / 1e6))
        if not indent:
            top.append((module, int(cumulative_us) / 1e6))
    top.sort(key=lambda m: -m[1])
    own.sort(key=lambda m: -m[1])
    return top, own, sum(t for _, t in top)


def bench_startup(*, runs: int = 10) -> StartupResult:
    here = {k: v for k, v in os.environ.items() if k != "TYPER_USE_RICH"}
    command = [str(XINBAO), "--help"]
    with tempfile.TemporaryDirectory(prefix="xinbao-pycache-") as cache:
        env = {k: v for k, v in here.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        _wall(command, env)  # compiles into the cache; every run after this is a warm start
        _wall(command, {**env, "TYPER_USE_RICH": "0"})
        times = [_wall(command, env) for _ in range(runs)]
        plain = [_wall(command, {**env, "TYPER_USE_RICH": "0"}) for _ in range(runs)]
        top, own, total = import_times(env)
    uncached = [_wall(command, here) for _ in range(runs)]
    return StartupResult(times, plain, uncached, top[:12], own[:12], total)


def describe(result: StartupResult) -> str:
    lines = [
        f"xinbao --help: median {result.median * 1000:.0f} ms of {len(result.runs)} runs "
        f"(min {min(result.runs) * 1000:.0f}, max {max(result.runs) * 1000:.0f}); "
        f"with TYPER_USE_RICH=0: {result.plain_median * 1000:.0f} ms; "
        f"without a bytecode cache for the project: {result.uncached_median * 1000:.0f} ms",
        f"imports (python -X importtime -m daemon.cli --help), {result.total_import * 1000:.0f} ms in all; "
        "top level by cumulative time:",
    ]
    lines += [f"  {m:<32} {t * 1000:6.0f} ms" for m, t in result.top_level]
    lines.append("largest own (self) import times:")
    lines += [f"  {m:<32} {t * 1000:6.0f} ms" for m, t in result.by_self]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    print(describe(bench_startup(runs=args.runs)))


if __name__ == "__main__":
    main()
