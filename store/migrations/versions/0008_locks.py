"""environment locks: `/lock` and a production rollback freeze automatic deploys

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "environment_locks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("project_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("environment", sa.String(length=63), nullable=False),
        sa.Column("locked_by", sa.String(length=255), nullable=False),
        sa.Column("locked_reason", sa.Text(), nullable=True),
        sa.Column("cause", sa.String(length=16), nullable=False),
        sa.Column("locked_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "environment"),
    )
    with op.batch_alter_table("environment_locks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_environment_locks_project_id"), ["project_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("environment_locks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_environment_locks_project_id"))
    op.drop_table("environment_locks")
