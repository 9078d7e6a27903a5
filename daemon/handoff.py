"""The hand-off between a pass's fetch thread and its processing thread: stored messages in arrival
order, with their bytes still in memory so they are not read back from disk, bounded by a byte
budget so a backlog of large mail never piles up ahead of the parse.
"""

from __future__ import annotations

import threading
from collections import deque


class Handoff:
    """A bounded queue of (row id, raw bytes); the consumer releases each message's bytes when
    done with it, and the producer waits while the budget is spent (a single message larger than
    the budget still passes, alone)."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._items: deque[tuple[int, bytes]] = deque()
        self._used = 0
        self._closed = False
        self._abandoned = False
        self._error: BaseException | None = None
        self._cond = threading.Condition()

    def put(self, items: list[tuple[int, bytes]]) -> bool:
        """Hand over stored messages; False if the consumer is gone (they stay `fetched` in the
        ledger for the next pass)."""
        for item in items:
            size = len(item[1])
            with self._cond:
                while self._used and self._used + size > self.budget and not self._abandoned:
                    self._cond.wait()
                if self._abandoned:
                    return False
                self._items.append(item)
                self._used += size
                self._cond.notify_all()
        return True

    def close(self, error: BaseException | None = None) -> None:
        """The producer is done, or failed with `error` (raised again by `raise_error`)."""
        with self._cond:
            self._closed = True
            self._error = error
            self._cond.notify_all()

    def abandon(self) -> None:
        """The consumer stops: a producer waiting for room returns at once."""
        with self._cond:
            self._abandoned = True
            self._cond.notify_all()

    def take(self, most: int, *, wait: bool) -> list[tuple[int, bytes]] | None:
        """Up to `most` messages; waits for one only if `wait`. None once closed and drained."""
        with self._cond:
            while wait and not self._items and not self._closed:
                self._cond.wait()
            if not self._items:
                return None if self._closed else []
            return [self._items.popleft() for _ in range(min(most, len(self._items)))]

    def release(self, nbytes: int) -> None:
        """The consumer has finished with a message of `nbytes`."""
        with self._cond:
            self._used = max(0, self._used - nbytes)
            self._cond.notify_all()

    def raise_error(self) -> None:
        """Re-raise, in the consumer's thread, what stopped the producer."""
        if self._error is not None:
            raise self._error
