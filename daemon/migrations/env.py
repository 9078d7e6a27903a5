"""Alembic environment: `daemon.db.upgrade` runs it with a connection already in a transaction."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

# daemon.db imports every model, the outbox's too, so autogenerate sees the whole schema.
import daemon.db


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        # SQLite alters tables by copying them; autogenerate should write batch operations for it.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection and no sqlalchemy.url: run migrations through daemon.db.upgrade")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=SQLModel.metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    # The `alembic` command line (authoring a revision): open our own engine for what it asks.
    engine = daemon.db.make_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


_main()
