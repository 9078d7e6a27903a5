"""A coverage-guided fuzzing campaign of the full parse, using the locked packages only.

    .venv/bin/python -m fuzz.long --minutes 30 [--seed N] [--out var/fuzz]

An AFL-style loop in pure Python. Inputs start from fuzz.fuzz_parse's seeds and are changed by its
mutators; a mutant joins the working queue when the parser takes a line-to-line arc it never took
before (sys.settrace, on parsers/ and the stdlib modules it leans on). A finding (an exception out
of parse_message, unsafe output, a MemoryError under the address-space limit, or one input running
past --slow seconds) is written to OUT/ with its traceback, and the campaign goes on.
"""

from __future__ import annotations

import argparse
import email
import hashlib
import random
import resource
import signal
import sys
import time
import traceback
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import parsers
from fuzz.fuzz_parse import MAX_INPUT, mutate, parse_checked, seeds

Tracer = Callable[[FrameType, str, Any], Any]


class _SlowInputError(Exception):
    """Raised by the alarm inside a parse that runs past --slow seconds."""


class Coverage:
    """Line-to-line arcs taken in the traced files, and whether the last run added any."""

    def __init__(self, roots: tuple[str, ...]) -> None:
        self.roots = roots
        self.arcs: set[tuple[str, int, int]] = set()
        self.fresh = 0

    def run(self, function: Callable[[], object]) -> int:
        """Call `function` under the tracer; the number of arcs it took for the first time."""
        self.fresh = 0
        sys.settrace(self._call)
        try:
            function()
        finally:
            sys.settrace(None)
        return self.fresh

    def _call(self, frame: FrameType, event: str, arg: Any) -> Tracer | None:
        name = frame.f_code.co_filename
        if not name.startswith(self.roots):
            return None
        previous = -frame.f_code.co_firstlineno
        arcs = self.arcs

        def line(frame: FrameType, event: str, arg: Any) -> Tracer:
            nonlocal previous
            if event == "line":
                arc = (name, previous, frame.f_lineno)
                if arc not in arcs:
                    arcs.add(arc)
                    self.fresh += 1
                previous = frame.f_lineno
            return line

        return line


def _roots() -> tuple[str, ...]:
    folders = [Path(parsers.__file__).parent, Path(email.__file__).parent]
    return (*(str(f) + "/" for f in folders), str(Path(zipfile.__file__)))


def campaign(*, minutes: float, seed: int, out: Path, slow: float, memory_mb: int) -> dict[str, Any]:
    """Run for `minutes`; return the figures (executions, queue, arcs, findings)."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)  # noqa: S311 (fuzzing, not security)
    coverage = Coverage(_roots())
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 1024 * 1024, hard))
    signal.signal(signal.SIGALRM, _alarm)
    queue: list[bytes] = []
    findings: dict[str, int] = {}
    executions, started = 0, time.monotonic()
    deadline, report = started + minutes * 60, started + 30

    def execute(data: bytes) -> None:
        nonlocal executions
        executions += 1
        signal.setitimer(signal.ITIMER_REAL, slow)
        try:
            fresh = coverage.run(lambda: parse_checked(data))
        except _SlowInputError:
            _save(out, "slow", data, f"ran past {slow} s\n", findings)
            return
        except MemoryError:
            _save(out, "memory", data, traceback.format_exc(), findings)
            return
        # The campaign's purpose: whatever escapes the parse is a finding, saved and counted.
        except Exception:  # noqa: BLE001
            _save(out, "crash", data, traceback.format_exc(), findings)
            return
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        if fresh:
            queue.append(data)

    pool = seeds()
    for data in pool:
        execute(data)
    while time.monotonic() < deadline:
        # Newer finds are likelier parents: they sit on the frontier of what is covered.
        parent = queue[min(len(queue) - 1, int(len(queue) * rng.random() ** 0.5))] if queue else b""
        execute(mutate(parent, rng, pool)[:MAX_INPUT])
        if time.monotonic() > report:
            report += 30
            _progress(executions, started, len(queue), len(coverage.arcs), findings)
    _progress(executions, started, len(queue), len(coverage.arcs), findings)
    return {
        "executions": executions,
        "seconds": round(time.monotonic() - started),
        "queue": len(queue),
        "arcs": len(coverage.arcs),
        "findings": findings,
    }


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise _SlowInputError


def _save(out: Path, kind: str, data: bytes, detail: str, findings: dict[str, int]) -> None:
    # One file per distinct place of failure: the last line of the traceback names it.
    where = detail.strip().splitlines()[-1] if detail.strip() else kind
    digest = hashlib.sha256(where.encode()).hexdigest()[:12]
    findings[f"{kind}: {where}"] = findings.get(f"{kind}: {where}", 0) + 1
    path = out / f"{kind}-{digest}.eml"
    if not path.exists():
        path.write_bytes(data)
        path.with_suffix(".txt").write_text(detail)


def _progress(executions: int, started: float, queue: int, arcs: int, findings: dict[str, int]) -> None:
    elapsed = max(time.monotonic() - started, 1e-9)
    print(
        f"{elapsed:7.0f} s  {executions:8d} execs  {executions / elapsed:6.1f}/s  "
        f"queue {queue:5d}  arcs {arcs:6d}  findings {sum(findings.values())}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz.long", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--out", type=Path, default=Path("var/fuzz"))
    parser.add_argument("--slow", type=float, default=20.0, help="seconds before one input counts as a hang")
    parser.add_argument("--memory-mb", type=int, default=3072, help="address-space limit of the campaign")
    args = parser.parse_args(argv)
    figures = campaign(
        minutes=args.minutes, seed=args.seed, out=args.out, slow=args.slow, memory_mb=args.memory_mb
    )
    for where, count in sorted(figures["findings"].items()):
        print(f"{count:6d}  {where}")
    print({k: v for k, v in figures.items() if k != "findings"})
    return 1 if figures["findings"] else 0


if __name__ == "__main__":
    sys.exit(main())
