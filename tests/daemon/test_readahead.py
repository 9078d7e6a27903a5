"""The IMAP read-ahead: the next batch is fetched while this one is stored, never further ahead,
and a pass that stops early leaves the connection between two commands."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from daemon.readahead import read_ahead


class Batches:
    """A fake `fetch_batches`: records which batches were fetched, from which thread, and whether
    the generator was closed (and where)."""

    def __init__(self, count: int, *, fail_at: int | None = None) -> None:
        self.count = count
        self.fail_at = fail_at
        self.fetched: list[int] = []
        self.threads: set[str] = set()
        self.closed_in: str | None = None
        self.proceed = threading.Semaphore(0)

    def __iter__(self) -> Iterator[list[int]]:
        try:
            for n in range(self.count):
                self.threads.add(threading.current_thread().name)
                if n == self.fail_at:
                    raise ConnectionResetError("163 dropped the connection")
                self.fetched.append(n)
                self.proceed.release()
                yield [n]
        finally:
            self.closed_in = threading.current_thread().name


def test_batches_arrive_in_order_from_the_reader_thread() -> None:
    """Ten batches come out as the server sent them, fetched outside the storing thread."""
    source = Batches(10)
    with read_ahead(source, name="xinbao-imap") as batches:
        assert [b[0] for b in batches] == list(range(10))
    assert source.threads == {"xinbao-imap"}
    assert source.closed_in == "xinbao-imap"


def test_at_most_one_batch_waits_while_one_is_stored() -> None:
    """While the first batch is still being stored, the reader fetches the next two at most (one
    waiting, one in hand): memory stays bounded however long the store takes."""
    source = Batches(10)
    with read_ahead(source, name="xinbao-imap") as batches:
        first = next(batches)
        for _ in range(3):  # batches 0, 1 and 2 get fetched; 3 must wait
            assert source.proceed.acquire(timeout=5)
        assert not source.proceed.acquire(timeout=0.2)
        assert first == [0]
        assert source.fetched == [0, 1, 2]


def test_a_pass_told_to_stop_ends_between_two_batches() -> None:
    """The daemon is stopping after the second batch: the reader finishes the fetch it is in,
    fetches nothing more, and closes the generator itself before the block ends."""
    source = Batches(100)
    with read_ahead(source, name="xinbao-imap") as batches:
        for batch in batches:
            if batch == [1]:
                break
    assert source.closed_in == "xinbao-imap"
    assert len(source.fetched) <= 4
    assert source.fetched == list(range(len(source.fetched)))


def test_a_dropped_connection_reaches_the_storing_thread() -> None:
    """The connection drops while the fourth batch is fetched: the three before it are stored,
    then the error is raised where the pass handles it."""
    source = Batches(10, fail_at=3)
    stored: list[int] = []

    def store_all() -> None:
        with read_ahead(source, name="xinbao-imap") as batches:
            for batch in batches:
                stored.extend(batch)

    with pytest.raises(ConnectionResetError):
        store_all()
    assert stored == [0, 1, 2]
    assert source.closed_in == "xinbao-imap"
