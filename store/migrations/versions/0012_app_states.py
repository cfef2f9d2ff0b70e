"""app states: a live app's crashed / restarting / unhealthy / live state per environment

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 00:50:00
"""

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_states",
        sa.Column(
            "environment_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("deployment_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("since", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("last_lines", store.models.JSONType, nullable=False),
        sa.Column("updated_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["environment_id"], ["environments.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("environment_id"),
    )


def downgrade() -> None:
    op.drop_table("app_states")
