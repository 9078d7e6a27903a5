"""Fixtures for the outbox tests: a fresh SQLite outbox, an injected clock, a loopback SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import SQLModel

from tests import pgserver
from tests.smtpserver import SmtpServer

# The database fixtures of tests/pgserver.py: `db_url` runs each test on SQLite and PostgreSQL.
pg_server = pgserver.pg_server
db_url = pgserver.db_url


class Clock:
    """A clock the test moves by hand; starts on a Friday morning in Panjin (01:30 UTC)."""

    def __init__(self, now: datetime = datetime(2025, 6, 20, 1, 30, tzinfo=UTC)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    """The ledger tables (the outbox references messages), on SQLite and (marked `postgres`) on a fresh PostgreSQL database."""
    if db_url.startswith("sqlite:///"):
        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(db_url)
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: sa.Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server
