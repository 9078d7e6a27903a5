"""The fetch thread's hand-off to the processing thread: order kept, memory bounded, no deadlock."""

from __future__ import annotations

import threading

import pytest

from daemon.handoff import Handoff

MB = 1024 * 1024


def _producer(feed: Handoff, items: list[tuple[int, bytes]], result: list[bool]) -> threading.Thread:
    t = threading.Thread(target=lambda: result.append(feed.put(items)), daemon=True)
    t.start()
    return t


def test_messages_come_out_in_the_order_they_were_stored() -> None:
    """Rows are recorded in mailbox order, whatever the batch boundaries."""
    feed = Handoff(10 * MB)
    feed.put([(1, b"a"), (2, b"b")])
    feed.put([(3, b"c")])
    feed.close()
    assert feed.take(2, wait=True) == [(1, b"a"), (2, b"b")]
    assert feed.take(5, wait=True) == [(3, b"c")]
    assert feed.take(5, wait=True) is None


def test_the_fetch_thread_waits_while_the_budget_is_spent() -> None:
    """A backlog of 3 MB photo mails against a 5 MB budget: the third waits for the first to be done."""
    feed = Handoff(5 * MB)
    result: list[bool] = []
    t = _producer(feed, [(1, bytes(3 * MB)), (2, bytes(2 * MB)), (3, bytes(3 * MB))], result)
    first = feed.take(10, wait=True)
    assert first is not None
    t.join(0.3)
    assert t.is_alive(), "the third message was let in over the budget"
    taken = [row for row, _ in first] + [row for row, _ in feed.take(10, wait=False) or []]
    assert taken == [1, 2]
    feed.release(3 * MB)
    t.join(5)
    assert not t.is_alive()
    assert result == [True]
    assert [row for row, _ in feed.take(10, wait=True) or []] == [3]


def test_a_message_larger_than_the_budget_still_passes_alone() -> None:
    """A 60 MB mail under a 32 MB budget is not stuck forever: it goes when nothing else is held."""
    feed = Handoff(32 * MB)
    result: list[bool] = []
    t = _producer(feed, [(1, bytes(MB)), (2, bytes(60 * MB))], result)
    assert [row for row, _ in feed.take(1, wait=True) or []] == [1]
    t.join(0.3)
    assert t.is_alive()
    feed.release(MB)
    t.join(5)
    assert result == [True]
    assert [row for row, _ in feed.take(1, wait=True) or []] == [2]


def test_a_stopping_consumer_frees_a_waiting_fetch_thread() -> None:
    """SIGTERM mid-backlog: the fetch thread returns instead of waiting for room that never comes;
    the messages it kept are already stored and stay `fetched` for the next pass."""
    feed = Handoff(MB)
    result: list[bool] = []
    t = _producer(feed, [(1, bytes(MB)), (2, bytes(MB))], result)
    assert feed.take(1, wait=True) is not None
    t.join(0.3)
    assert t.is_alive()
    feed.abandon()
    t.join(5)
    assert result == [False]


def test_a_fetch_failure_reaches_the_processing_thread() -> None:
    """The database failing in the fetch thread stops the pass the same way as in the main thread."""
    feed = Handoff(MB)
    feed.put([(1, b"x")])
    feed.close(RuntimeError("database is locked"))
    assert feed.take(5, wait=True) == [(1, b"x")]
    assert feed.take(5, wait=True) is None
    with pytest.raises(RuntimeError, match="locked"):
        feed.raise_error()


def test_nothing_waiting_and_no_wait_asked_gives_an_empty_list() -> None:
    """The processing thread peeks for more work without blocking while it still has some."""
    feed = Handoff(MB)
    assert feed.take(3, wait=False) == []
