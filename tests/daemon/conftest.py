"""Database fixtures for daemon tests: every ledger test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from daemon.db import make_engine, upgrade
from tests.pgserver import db_url, pg_server  # noqa: F401 (fixtures, re-exported for tests/daemon)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:  # noqa: F811 (the fixture imported above)
    """A migrated, empty ledger on each backend."""
    eng = make_engine(db_url)
    upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()
