"""wait for CI: a deployment's required checks and the verdict on them

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checks", store.models.JSONType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_column("checks")
