"""Time spent per pipeline stage, measured by wrapping the daemon's methods in the benchmark process
only (monkeypatching classes for the length of a block; the code under test is not touched)."""

from __future__ import annotations

import functools
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

# (stage, owners, attribute): what each stage of a pass is, in pass order. The first owner (imported
# lazily; "module:Class" or a module) that has the attribute is wrapped, so a method that moves
# between classes while the daemon is refactored is still found; a stage found nowhere is left out.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("connect", "daemon.mailbox:Mailbox", "ensure_open"),
    ("list", "daemon.mailbox:Mailbox", "new_messages"),
    ("fetch", "daemon.mailbox:Mailbox", "fetch_batches"),
    ("store", "daemon.intake:Intake", "store_batch"),
    ("store:raw", "daemon.rawstore:RawStore", "put_many"),
    ("claim", "daemon.pipeline:Pipeline", "claim_many"),
    ("parse", "daemon.guard:Guard", "parse"),
    ("record", "daemon.pipeline:Pipeline", "record"),
    ("acknowledge", "daemon.poller:Poller", "_acknowledge"),
    ("digests", "daemon.replies", "queue_unverified_digests"),
    ("relay", "outbox.relay:Relay", "run_once"),
    # Phase totals: fetching (fetch + store, in the fetch thread), processing (claim, parse wait,
    # record, in the pass's thread); the two overlap.
    ("phase:fetch", "daemon.poller:Poller", "_fetch_new"),
    ("phase:process", "daemon.poller:Poller", "_process"),
)
# How a split is printed: pass order, the phase totals last.
ORDER = (
    "connect", "list", "fetch", "store", "store:raw", "claim", "parse", "parse wait", "record", "acknowledge",
    "digests", "relay", "relay after pass", "phase:fetch", "phase:process",
)  # fmt: skip
# Stages that run in worker threads, several at once: their sum is busy time, not wall time.
PARALLEL = frozenset({"parse"})


class StageClock:
    """Seconds per stage, summed over calls from any thread; also the calling thread's CPU seconds
    (less noisy than wall time on a shared machine, and what the GIL-bound stages cost)."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.cpu: defaultdict[str, float] = defaultdict(float)
        self.calls: defaultdict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def add(self, stage: str, seconds: float, cpu: float = 0.0) -> None:
        with self._lock:
            self.seconds[stage] += seconds
            self.cpu[stage] += cpu
            self.calls[stage] += 1

    def split(self) -> dict[str, float]:
        """The stages of a pass; `parse wait` is the main thread's wait for the workers (what the
        processing phase spent outside claim and record)."""
        out = dict(self.seconds)
        process = out.get("phase:process", 0.0)
        out["parse wait"] = max(0.0, process - out.get("claim", 0.0) - out.get("record", 0.0))
        return out


def _resolve(owners: str, attr: str) -> Any:
    import importlib

    for owner in owners.split():
        module, _, cls = owner.partition(":")
        try:
            found: Any = importlib.import_module(module)
        except ImportError:
            continue
        found = getattr(found, cls, None) if cls else found
        if found is not None and hasattr(found, attr):
            return found
    return None


def _timed(clock: StageClock, stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started, cpu = time.perf_counter(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            clock.add(stage, time.perf_counter() - started, time.thread_time() - cpu)

    return wrapper


def _timed_iter(clock: StageClock, stage: str, fn: Callable[..., Iterator[Any]]) -> Callable[..., Any]:
    """For a generator: the time spent producing each item, not the consumer's time in between."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        it = fn(*args, **kwargs)
        while True:
            started, cpu = time.perf_counter(), time.thread_time()
            try:
                item = next(it)
            except StopIteration:
                clock.add(stage, time.perf_counter() - started, time.thread_time() - cpu)
                return
            clock.add(stage, time.perf_counter() - started, time.thread_time() - cpu)
            yield item

    return wrapper


@contextmanager
def timing() -> Iterator[StageClock]:
    """Wrap every stage in STAGES for the block; yields the clock the wrappers add to."""
    import inspect

    clock = StageClock()
    with ExitStack() as undo:
        for stage, owners, attr in STAGES:
            target = _resolve(owners, attr)
            if target is None:
                continue
            original = getattr(target, attr)
            wrap = _timed_iter if inspect.isgeneratorfunction(original) else _timed
            setattr(target, attr, wrap(clock, stage, original))
            undo.callback(setattr, target, attr, original)
        yield clock
