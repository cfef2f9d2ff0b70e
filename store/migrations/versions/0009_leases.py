"""leases: who runs a delivery or a deployment, and until when

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table, expires in (("deliveries", "claim_expires_at"), ("deployments", "lease_expires_at")):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))
            batch_op.add_column(sa.Column(expires, store.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table, expires in (("deliveries", "claim_expires_at"), ("deployments", "lease_expires_at")):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(expires)
            batch_op.drop_column("claimed_by")
