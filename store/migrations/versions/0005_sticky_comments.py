"""sticky comments: one row per pull request, locked while a replica posts its comment

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-27 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sticky_comments",
        sa.Column("repo", sa.String(length=255), nullable=False),
        sa.Column("pr_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("comment_id", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("repo", "pr_number"),
    )


def downgrade() -> None:
    op.drop_table("sticky_comments")
