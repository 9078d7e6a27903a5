"""Named failpoints at the state transitions of the message lifecycle and the relay.

Inert in production. With XINBAO_FAILPOINT=name in the environment, the process kills itself
with SIGKILL when it reaches that point (no cleanup, no flush: a power cut), so tests can check
that a restart loses nothing and counts nothing twice. XINBAO_FAILPOINT_SKIP=n passes the point n
times first.
"""

from __future__ import annotations

import os
import signal

ENV = "XINBAO_FAILPOINT"

# Every failpoint, in lifecycle order; the crash test loops over this tuple.
POINTS = (
    "raw_stored",  # raw bytes on disk, no `fetched` row yet
    "fetched_committed",  # `fetched` row and cursor committed, nothing parsed
    "attempt_counted",  # the attempt is committed, parsing not started
    "parsed",  # parsed, nothing recorded
    "recorded_committed",  # submissions + outbox committed, server not told
    "server_acknowledged",  # server flagged/moved, `server_done` not committed
    "relay_claimed",  # outbox rows claimed (state sending), nothing sent
    "relay_sent",  # the SMTP server said 250, `sent` not committed (the ambiguous window)
)

_counts: dict[str, int] = {}


def failpoint(name: str) -> None:
    """Die here, hard, if the environment names this point."""
    if os.environ.get(ENV) != name:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] > int(os.environ.get(f"{ENV}_SKIP", "0")):
        os.kill(os.getpid(), signal.SIGKILL)
