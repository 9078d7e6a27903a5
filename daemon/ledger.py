"""Ledger queries the pipeline runs inside its own transaction: lookups and upserts, no decisions."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from daemon import config
from daemon.models import Message, MessageState, Person, PollState, Submission, SubmissionStatus, Unit

# Brackets a unit name may be written with or without: 应急管理局（执法支队） = 应急管理局(执法支队).
# Full-width forms become these under NFKC.
_BRACKETS = "()[]{}【】〔〕〖〗〈〉《》「」『』"
_UNIT_NOISE = re.compile(rf"[\s{re.escape(_BRACKETS)}]+")


def normalize_unit_text(text: str) -> str:
    """A unit name as compared: NFKC, without whitespace or brackets of either width."""
    return _UNIT_NOISE.sub("", unicodedata.normalize("NFKC", text))


def normalize_title(title: str) -> str:
    """A title as compared for replacement: NFKC, without whitespace, punctuation or symbols."""
    text = unicodedata.normalize("NFKC", title)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PSZC")


def sync_units(
    session: Session, units: Sequence[config.Unit], publicists: Sequence[config.Publicist]
) -> None:
    """Make units and publicists match config: upsert both, deactivate what config dropped.

    Nothing is deleted, since submissions and scores refer to these rows. A person no longer
    listed as a publicist keeps their row (they may be an author) but loses `is_publicist`.
    """
    existing = {u.name: u for u in session.exec(select(Unit))}
    for cu in units:
        row = existing.get(cu.name)
        if row is None:
            row = Unit(name=cu.name)
            session.add(row)
            existing[cu.name] = row
        row.group = cu.group
        row.aliases = list(cu.aliases)
        row.active = True
    listed = {cu.name for cu in units}
    for name, row in existing.items():
        if name not in listed:
            row.active = False
    session.flush()

    kept: set[int] = set()
    for cp in publicists:
        unit_id = existing[cp.unit].id
        assert unit_id is not None
        person = session.exec(select(Person).where(Person.name == cp.name, Person.unit_id == unit_id)).first()
        if person is None:
            person = Person(name=cp.name, unit_id=unit_id)
            session.add(person)
        person.email = cp.email.strip()
        person.phone = cp.phone or None
        person.wechat = cp.wechat or None
        person.is_publicist = True
        session.flush()
        assert person.id is not None
        kept.add(person.id)
    for person in session.exec(select(Person).where(col(Person.is_publicist).is_(True))):
        if person.id not in kept:
            person.is_publicist = False
    session.flush()


@dataclass(frozen=True)
class UnitIndex:
    """Units by name and alias, exactly and after normalize_unit_text; the lowest id wins a tie."""

    exact: Mapping[str, Unit]
    normalized: Mapping[str, Unit]

    @classmethod
    def load(cls, session: Session, *, include_inactive: bool = False) -> UnitIndex:
        stmt = _ALL_UNITS if include_inactive else _ACTIVE_UNITS
        # Tens of units: matching aliases (a JSON list) in Python keeps SQLite and PostgreSQL alike.
        units = list(session.exec(stmt))
        exact: dict[str, Unit] = {}
        normalized: dict[str, Unit] = {}
        for u in units:
            for name in (u.name, *u.aliases):
                exact.setdefault(name, u)
                normalized.setdefault(normalize_unit_text(name), u)
        return cls(exact, normalized)

    def find(self, text: str) -> Unit | None:
        """The unit `text` names: exactly by name or alias first, then after normalize_unit_text."""
        found = self.exact.get(text.strip())
        if found is not None:
            return found
        key = normalize_unit_text(text)
        return self.normalized.get(key) if key else None


_ALL_UNITS = select(Unit).order_by(col(Unit.id))
_ACTIVE_UNITS = _ALL_UNITS.where(col(Unit.active).is_(True))
_UNIT_INDEX = "xinbao.unit_index"


def unit_by_name_or_alias(session: Session, text: str, *, include_inactive: bool = False) -> Unit | None:
    """The unit `text` names: exactly by name or alias first, then after normalize_unit_text."""
    return UnitIndex.load(session, include_inactive=include_inactive).find(text)


def active_units(session: Session) -> UnitIndex:
    """The active units, read once per transaction of `session`: recording a group of messages looks
    a unit up for every draft and author, and nothing while recording changes units."""
    cached = session.info.get(_UNIT_INDEX)
    if cached is not None and cached[0] is session.get_transaction():
        return cached[1]  # type: ignore[no-any-return]
    index = UnitIndex.load(session)
    session.info[_UNIT_INDEX] = (session.get_transaction(), index)
    return index


# The statements the pipeline runs for every message are built once, with bound parameters: building
# and cache-keying a SELECT costs more than SQLite takes to run it.
_PUBLICIST = (
    select(Person)
    .where(sa.func.lower(Person.email) == sa.bindparam("addr"), col(Person.is_publicist).is_(True))
    .order_by(col(Person.id))
)


def publicist_by_email(session: Session, addr: str) -> Person | None:
    """The registered publicist with this address; addresses compare case-insensitively."""
    return session.exec(_PUBLICIST, params={"addr": addr.strip().lower()}).first()


def _same_unit(unit_id: int | None) -> sa.ColumnElement[bool]:
    return col(Submission.unit_id).is_(None) if unit_id is None else col(Submission.unit_id) == unit_id


def _duplicate_of(same_unit: sa.ColumnElement[bool]) -> SelectOfScalar[Submission]:
    return (
        select(Submission)
        .where(
            same_unit,
            Submission.text_hash == sa.bindparam("text_hash"),
            Submission.status == SubmissionStatus.ACCEPTED,
        )
        .order_by(col(Submission.received_at), col(Submission.id))
    )


_DUPLICATE = _duplicate_of(col(Submission.unit_id) == sa.bindparam("unit_id"))
_DUPLICATE_NO_UNIT = _duplicate_of(col(Submission.unit_id).is_(None))


def find_duplicate(session: Session, unit_id: int | None, text_hash: str) -> Submission | None:
    """The earliest accepted submission from the same unit with the same text."""
    if unit_id is None:
        return session.exec(_DUPLICATE_NO_UNIT, params={"text_hash": text_hash}).first()
    return session.exec(_DUPLICATE, params={"unit_id": unit_id, "text_hash": text_hash}).first()


def find_rejected_to_replace(
    session: Session, unit_id: int | None, title: str, since: datetime
) -> Submission | None:
    """The latest rejected submission from the same unit, received at or after `since`, whose
    title equals `title` once normalize_title is applied to both."""
    key = normalize_title(title)
    if not key:
        return None
    stmt = (
        select(Submission)
        .where(
            _same_unit(unit_id),
            Submission.status == SubmissionStatus.REJECTED,
            col(Submission.received_at) >= since,
        )
        .order_by(col(Submission.received_at).desc(), col(Submission.id).desc())
    )
    for sub in session.exec(stmt):
        if normalize_title(sub.title) == key:
            return sub
    return None


def count_accepted(session: Session, unit_id: int, start: datetime, end: datetime) -> int:
    """Accepted submissions of a unit received in [start, end)."""
    return count_accepted_in(session, unit_id, [(start, end)])[0]


def count_accepted_in(
    session: Session, unit_id: int, windows: Sequence[tuple[datetime, datetime]]
) -> tuple[int, ...]:
    """Accepted submissions of a unit received in each [start, end) of `windows`, in one query
    (a receipt states the week's and the month's count)."""
    params: dict[str, object] = {"unit_id": unit_id}
    for i, (start, end) in enumerate(windows):
        params[f"start{i}"], params[f"end{i}"] = start, end
    params["first"] = min(a for a, _ in windows)
    params["last"] = max(b for _, b in windows)
    return tuple(int(n) for n in session.execute(_counts_in(len(windows)), params).one())


@functools.cache
def _counts_in(windows: int) -> sa.Select[Any]:
    received = col(Submission.received_at)
    counts = [
        sa.func.coalesce(
            sa.func.sum(
                sa.case(
                    (sa.and_(received >= sa.bindparam(f"start{i}"), received < sa.bindparam(f"end{i}")), 1),
                    else_=0,
                )
            ),
            0,
        )
        for i in range(windows)
    ]
    return sa.select(*counts).where(
        col(Submission.unit_id) == sa.bindparam("unit_id"),
        col(Submission.status) == SubmissionStatus.ACCEPTED,
        received >= sa.bindparam("first"),
        received < sa.bindparam("last"),
    )


def rows_by_uid(
    session: Session, account: str, folder: str, uidvalidity: int, uids: Iterable[int]
) -> dict[int, int]:
    """The rows of a fetched batch's messages recorded before, by IMAP coordinates: uid -> row id."""
    wanted = sorted(set(uids))
    if not wanted:
        return {}
    stmt = sa.select(col(Message.uid), col(Message.id)).where(
        col(Message.account) == account,
        col(Message.folder) == folder,
        col(Message.uidvalidity) == uidvalidity,
        col(Message.uid).in_(wanted),
    )
    return {uid: row_id for uid, row_id in session.connection().execute(stmt) if row_id is not None}


def message_by_sha(session: Session, sha256: str) -> Message | None:
    """The first row with these raw bytes (the same mail may arrive again, under another UID)."""
    stmt = select(Message).where(Message.sha256 == sha256).order_by(col(Message.id))
    return session.exec(stmt).first()


def messages_in_states(
    session: Session, states: Iterable[MessageState], *, account: str | None = None, folder: str | None = None
) -> list[Message]:
    """Messages in any of `states`, oldest row first (what a restart resumes)."""
    stmt = select(Message).where(col(Message.state).in_(list(states)))
    if account is not None:
        stmt = stmt.where(Message.account == account)
    if folder is not None:
        stmt = stmt.where(Message.folder == folder)
    return list(session.exec(stmt.order_by(col(Message.id))))


def get_or_create_poll_state(session: Session, account: str, folder: str) -> PollState:
    """The poll cursor of a folder, created empty (no UIDVALIDITY, last UID 0) on first use."""
    state = session.get(PollState, (account, folder))
    if state is None:
        state = PollState(account=account, folder=folder)
        session.add(state)
        session.flush()
    return state
