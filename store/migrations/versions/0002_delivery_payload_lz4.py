"""compress webhook payloads with lz4 on PostgreSQL

Webhook payloads are the bulk of what the intake writes; lz4 compresses them several times
faster than PostgreSQL's default pglz, which shortens every group commit. Servers built
without lz4 keep pglz.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_HAS_LZ4 = "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and bind.exec_driver_sql(_HAS_LZ4).scalar():
        op.execute("ALTER TABLE deliveries ALTER COLUMN payload SET COMPRESSION lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE deliveries ALTER COLUMN payload SET COMPRESSION pglz")
