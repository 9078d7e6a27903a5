"""The initial ledger: messages, units, people, submissions, problems, adoptions, poll state, outbox.

Revision ID: 0001
Revises:
Create Date: 2025-06-20

Written out in full rather than from the models, so later model changes never rewrite history.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _dt() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account", sa.String(), nullable=False),
        sa.Column("folder", sa.String(), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("internaldate", _dt(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(), nullable=True),
        sa.Column("server_done", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(), nullable=True),
        sa.Column("from_addr", sa.String(), nullable=True),
        sa.Column("subject", sa.String(), nullable=True),
        sa.Column("created_at", _dt(), nullable=False),
        sa.Column("updated_at", _dt(), nullable=False),
        sa.UniqueConstraint(
            "account", "folder", "uidvalidity", "uid", name="uq_messages_account_folder_uidvalidity_uid"
        ),
    )
    op.create_index("ix_messages_sha256", "messages", ["sha256"])
    op.create_index("ix_messages_state", "messages", ["state"])

    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("group", sa.String(), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("name", name="uq_units_name"),
    )

    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id"), nullable=False),
        sa.Column("email", sa.String(), nullable=True),
        sa.Column("is_publicist", sa.Boolean(), nullable=False),
        sa.Column("phone", sa.String(), nullable=True),
        sa.Column("wechat", sa.String(), nullable=True),
        sa.UniqueConstraint("name", "unit_id", name="uq_people_name_unit_id"),
    )

    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_row_id", sa.Integer(), sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id"), nullable=True),
        sa.Column("sender", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("chars", sa.Integer(), nullable=False),
        sa.Column("images", sa.Integer(), nullable=False),
        sa.Column("first_reviewer", sa.String(), nullable=True),
        sa.Column("second_reviewer", sa.String(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("received_at", _dt(), nullable=False),
        sa.Column("replaces_id", sa.Integer(), sa.ForeignKey("submissions.id"), nullable=True),
        sa.Column("created_at", _dt(), nullable=False),
    )
    op.create_index("ix_submissions_unit_id_received_at", "submissions", ["unit_id", "received_at"])
    op.create_index("ix_submissions_text_hash", "submissions", ["text_hash"])
    op.create_index("ix_submissions_message_row_id", "submissions", ["message_row_id"])

    op.create_table(
        "submission_authors",
        sa.Column("submission_id", sa.Integer(), sa.ForeignKey("submissions.id"), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("person_id", sa.Integer(), sa.ForeignKey("people.id"), nullable=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("unit_text", sa.String(), nullable=False),
        sa.Column("unit_id", sa.Integer(), sa.ForeignKey("units.id"), nullable=True),
    )
    op.create_index("ix_submission_authors_person_id", "submission_authors", ["person_id"])

    op.create_table(
        "problems",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_row_id", sa.Integer(), sa.ForeignKey("messages.id"), nullable=False),
        sa.Column("submission_id", sa.Integer(), sa.ForeignKey("submissions.id"), nullable=True),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
    )
    op.create_index("ix_problems_message_row_id", "problems", ["message_row_id"])

    op.create_table(
        "adoptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("submission_id", sa.Integer(), sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("adopted_at", _dt(), nullable=False),
        sa.Column("revoked_at", _dt(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=False),
        sa.Column("created_at", _dt(), nullable=False),
    )
    op.create_index("ix_adoptions_submission_id", "adoptions", ["submission_id"])

    op.create_table(
        "poll_state",
        sa.Column("account", sa.String(), primary_key=True),
        sa.Column("folder", sa.String(), primary_key=True),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("last_success_at", _dt(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
    )

    # The model is outbox/table.py (class Outbox); this is its schema as of this revision.
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("recipient", sa.String(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _dt(), nullable=True),
        sa.Column("lease_until", _dt(), nullable=True),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _dt(), nullable=False),
        sa.Column("sent_at", _dt(), nullable=True),
        sa.Column("cause_message_row_id", sa.Integer(), sa.ForeignKey("messages.id"), nullable=True),
        sa.UniqueConstraint("key", name="uq_outbox_key"),
    )
    op.create_index("ix_outbox_state", "outbox", ["state"])


def downgrade() -> None:
    for table in (
        "outbox",
        "poll_state",
        "adoptions",
        "problems",
        "submission_authors",
        "submissions",
        "people",
        "units",
        "messages",
    ):
        op.drop_table(table)
