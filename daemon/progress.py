"""A rich progress bar for passes with more than a screenful of messages; silent otherwise."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

SCREENFUL = 25


@contextmanager
def progress_bar() -> Iterator[Callable[[int, int], None]]:
    """Yields a (done, total) callback; the bar appears only once total exceeds a screenful."""
    from rich.progress import Progress

    bar: Progress | None = None
    task = None

    def update(done: int, total: int) -> None:
        nonlocal bar, task
        if total <= SCREENFUL:
            return
        if bar is None:
            bar = Progress(transient=True)
            bar.start()
            task = bar.add_task("处理邮件", total=total)
        assert task is not None
        bar.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        if bar is not None:
            bar.stop()
