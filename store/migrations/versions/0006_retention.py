"""retention: where an archived deployment log went

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 11:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_archives",
        sa.Column(
            "deployment_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("bucket", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=1024), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("archived_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployments.id"]),
        sa.PrimaryKeyConstraint("deployment_id"),
    )


def downgrade() -> None:
    op.drop_table("log_archives")
