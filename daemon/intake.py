"""Intake: the first stage of the lifecycle. Raw bytes go to the content-addressed store (fsynced)
before anything else; then the `fetched` row and the mailbox cursor are committed together, so a
crash between the two costs a re-fetch, never a message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from daemon import ledger, replies
from daemon.config import Config
from daemon.db import session
from daemon.failpoints import failpoint
from daemon.models import Message, MessageState, ProblemRecord
from daemon.pipeline import is_own
from daemon.rawstore import RawStore
from parsers.submission import header_only
from parsers.types import Code, problem


class Intake:
    """Stores what the mailbox hands over; one short transaction per fetched batch."""

    def __init__(
        self, *, config: Config, engine: Engine, store: RawStore, clock: Callable[[], datetime]
    ) -> None:
        self.config = config
        self.engine = engine
        self.store = store
        self.clock = clock

    def store_batch(
        self, *, account: str, folder: str, uidvalidity: int, batch: Sequence[tuple[int, bytes, datetime]]
    ) -> list[tuple[int, bool]]:
        """A fetched batch of (uid, raw, internaldate): all raw files durable first, then every
        `fetched` row and the cursor in ONE commit. Returns (row id, new) per message, in order;
        `new` is False for a UID recorded before (a crash between that commit and the server flag).
        """
        if not batch:
            return []
        digests = self.store.put_many(
            [(raw, _meta(account, folder, uidvalidity, uid, when)) for uid, raw, when in batch]
        )
        failpoint("raw_stored")
        now = self.clock()
        with session(self.engine) as s:
            _advance(s, account, folder, max(uid for uid, _, _ in batch))
            known = ledger.rows_by_uid(s, account, folder, uidvalidity, [uid for uid, _, _ in batch])
            added: dict[int, Message] = {}
            fresh: list[bool] = []  # False: recorded before, or twice in the batch
            for (uid, raw, internaldate), sha in zip(batch, digests, strict=True):
                fresh.append(uid not in known and uid not in added)
                if not fresh[-1]:
                    continue
                added[uid] = _new_row(
                    now,
                    account=account,
                    folder=folder,
                    uidvalidity=uidvalidity,
                    uid=uid,
                    sha256=sha,
                    size=len(raw),
                    internaldate=internaldate,
                    state=MessageState.FETCHED,
                )
            s.add_all(added.values())
            s.flush()  # one INSERT for the batch (RETURNING the ids), not one per message
            ids = [known[uid] if uid in known else _id(added[uid]) for uid, _, _ in batch]
            out = list(zip(ids, fresh, strict=True))
        failpoint("fetched_committed")
        return out

    def store_too_large(
        self,
        *,
        account: str,
        folder: str,
        uidvalidity: int,
        uid: int,
        size: int,
        head: bytes,
        internaldate: datetime,
    ) -> int:
        """A message over the size limit: only its header is kept, and the sender is told why."""
        from parsers.message import read_message

        sha = self.store.put(
            head, meta={**_meta(account, folder, uidvalidity, uid, internaldate), "too_large": size}
        )
        now = self.clock()
        env = read_message(head, limits=self.config.limits)
        mb = f"{size / 1024 / 1024:.0f} MB，上限 {self.config.limits.max_message_bytes / 1024 / 1024:.0f} MB"
        too_large = problem(Code.TOO_LARGE, detail=mb)
        with session(self.engine) as s:
            _advance(s, account, folder, uid)
            known = ledger.rows_by_uid(s, account, folder, uidvalidity, [uid])
            if uid in known:
                return known[uid]
            ignored = env.auto_reply or is_own(self.config, env.from_addr)
            msg, row_id = _add_row(
                s,
                now,
                account=account,
                folder=folder,
                uidvalidity=uidvalidity,
                uid=uid,
                sha256=sha,
                size=size,
                internaldate=internaldate,
                state=MessageState.IGNORED if ignored else MessageState.REJECTED,
                outcome="ignored" if ignored else "too_large",
                message_id=env.message_id[:500],
                from_addr=env.from_addr[:320],
                subject=env.subject[:1000],
            )
            if not ignored:
                s.add(
                    ProblemRecord(message_row_id=row_id, code=too_large.code.value, message=too_large.message)
                )
                parsed = header_only(head, limits=self.config.limits, trouble=too_large)
                replies.answer(s, self.config, msg, parsed, [], [too_large], now=now)
            return row_id


def _advance(s: Session, account: str, folder: str, uid: int) -> None:
    """Move the folder's cursor past `uid` (never back)."""
    cursor = ledger.get_or_create_poll_state(s, account, folder)
    cursor.last_uid = max(cursor.last_uid, uid)


def _new_row(now: datetime, **fields: Any) -> Message:
    return Message(created_at=now, updated_at=now, **fields)


def _add_row(s: Session, now: datetime, **fields: Any) -> tuple[Message, int]:
    """A new `messages` row, flushed so that it has its id."""
    msg = _new_row(now, **fields)
    s.add(msg)
    s.flush()
    return msg, _id(msg)


def _id(msg: Message) -> int:
    assert msg.id is not None  # flushed
    return msg.id


def _meta(account: str, folder: str, uidvalidity: int, uid: int, internaldate: datetime) -> dict[str, Any]:
    return {
        "account": account,
        "folder": folder,
        "uidvalidity": uidvalidity,
        "uid": uid,
        "internaldate": internaldate.isoformat(),
    }
