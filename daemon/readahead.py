"""Read one item ahead of the consumer in a thread of its own: the next IMAP batch arrives over the
socket while the current one is written and fsynced to the raw store, instead of after it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")


class _Done:
    """The producer's last word: the iterator ended, or raised `error`."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


class _ReadAhead(Generic[T]):
    def __init__(self, source: Iterable[T], name: str) -> None:
        self._source = source
        # One item waiting in the queue and one being produced: never more than that in memory.
        self._queue: queue.Queue[T | _Done] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _produce(self) -> None:
        it = iter(self._source)
        try:
            while not self._stop.is_set():
                try:
                    item = next(it)
                except StopIteration:
                    break
                self._put(item)
        except BaseException as exc:  # noqa: BLE001 -- handed to the consumer, raised there
            self._put(_Done(exc))
            return
        finally:
            # The source (a generator over an IMAP connection) is closed in the thread that ran
            # it, between two items, so the connection is left between two commands.
            close = getattr(it, "close", None)
            if close is not None:
                close()
        self._put(_Done())

    def _put(self, item: T | _Done) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def items(self) -> Iterator[T]:
        while True:
            item = self._queue.get()
            if isinstance(item, _Done):
                if item.error is not None:
                    raise item.error
                return
            yield item

    def stop(self) -> None:
        """Ask for no further item, then wait for the one being produced (if any) to finish."""
        self._stop.set()
        self._thread.join()


@contextmanager
def read_ahead(source: Iterable[T], *, name: str) -> Iterator[Iterator[T]]:
    """Iterate `source` in a background thread, one item ahead; leaving the block early stops it
    between two items and waits for it, so nothing touches the source after the block."""
    ra = _ReadAhead(source, name)
    ra.start()
    try:
        yield ra.items()
    finally:
        ra.stop()
