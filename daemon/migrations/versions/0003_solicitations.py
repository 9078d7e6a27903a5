"""Solicitations (约稿): commissioned topics and the drafts answering them.

Revision ID: 0003
Revises: 0002
Create Date: 2025-08-01

Written out in full rather than from the models, so later model changes never rewrite history.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _dt() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    # As in 0002: a database made by create_all from these models has the tables already.
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "solicitations" not in existing:
        op.create_table(
            "solicitations",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("topic", sa.Text(), nullable=False),
            sa.Column("deadline", sa.Date(), nullable=False),
            sa.Column("units", sa.JSON(), nullable=False),
            sa.Column("created_by", sa.String(), nullable=False),
            sa.Column("source_message_row_id", sa.Integer(), sa.ForeignKey("messages.id"), nullable=True),
            sa.Column("created_at", _dt(), nullable=False),
        )
        op.create_index("ix_solicitations_deadline", "solicitations", ["deadline"])
    if "solicitation_responses" not in existing:
        op.create_table(
            "solicitation_responses",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("solicitation_id", sa.Integer(), sa.ForeignKey("solicitations.id"), nullable=False),
            sa.Column("submission_id", sa.Integer(), sa.ForeignKey("submissions.id"), nullable=False),
            sa.Column("grade", sa.Integer(), nullable=True),
            sa.Column("deduction", sa.Numeric(10, 4), nullable=False),
            sa.Column("note", sa.Text(), nullable=False),
            sa.Column("graded_by", sa.String(), nullable=False),
            sa.Column("graded_at", _dt(), nullable=True),
            sa.Column("created_at", _dt(), nullable=False),
            sa.UniqueConstraint(
                "solicitation_id",
                "submission_id",
                name="uq_solicitation_responses_solicitation_id_submission_id",
            ),
        )


def downgrade() -> None:
    op.drop_table("solicitation_responses")
    op.drop_index("ix_solicitations_deadline", table_name="solicitations")
    op.drop_table("solicitations")
