"""Scoring: items the office enters (office_entries) and imported months (history).

Revision ID: 0002
Revises: 0001
Create Date: 2025-07-01

Written out in full rather than from the models, so later model changes never rewrite history.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _dt() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    # daemon.db stamps a database made by SQLModel's create_all (no alembic_version) at 0001 and
    # upgrades from there; made by this code's models, it has these tables already.
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "office_entries" not in existing:
        _office_entries()
    if "history" not in existing:
        _history()


def _office_entries() -> None:
    op.create_table(
        "office_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id"), nullable=True),
        sa.Column("submission_id", sa.Integer(), sa.ForeignKey("submissions.id"), nullable=True),
        sa.Column("person", sa.String(), nullable=True),
        sa.Column("points", sa.Numeric(10, 4), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", _dt(), nullable=False),
    )
    op.create_index("ix_office_entries_period", "office_entries", ["period"])


def _history() -> None:
    op.create_table(
        "history",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id"), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("submitted", sa.Integer(), nullable=False),
        sa.Column("adoptions", sa.JSON(), nullable=False),
        sa.Column("score", sa.Numeric(10, 4), nullable=False),
        sa.Column("imported_at", _dt(), nullable=False),
        sa.UniqueConstraint("unit_id", "month", name="uq_history_unit_id_month"),
    )


def downgrade() -> None:
    op.drop_table("history")
    op.drop_index("ix_office_entries_period", table_name="office_entries")
    op.drop_table("office_entries")
