"""monorepos: a repository holds one project per app, unique by (github_repo_id, app)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# 0001 left the constraint unnamed: PostgreSQL calls it this, SQLite's batch copy is told to
POSTGRES_NAME = "projects_github_repo_id_key"
SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _old_unique_name() -> str:
    return POSTGRES_NAME if op.get_bind().dialect.name == "postgresql" else "uq_projects_github_repo_id"


def upgrade() -> None:
    # every existing project is its repository's one app, named "" like any repository without apps:
    with op.batch_alter_table("projects", naming_convention=SQLITE_NAMES) as batch_op:
        batch_op.add_column(sa.Column("app", sa.String(length=32), server_default="", nullable=False))
        batch_op.drop_constraint(_old_unique_name(), type_="unique")
        batch_op.create_unique_constraint("uq_projects_repo_app", ["github_repo_id", "app"])


def downgrade() -> None:
    apps = op.get_bind().scalar(sa.text("SELECT count(*) FROM projects WHERE app <> ''"))
    if apps:
        raise RuntimeError(
            f"{apps} projects are apps of a monorepo and would share their repository; "
            "delete them before downgrading below revision 0011"
        )
    with op.batch_alter_table("projects", naming_convention=SQLITE_NAMES) as batch_op:
        batch_op.drop_constraint("uq_projects_repo_app", type_="unique")
        batch_op.drop_column("app")
        batch_op.create_unique_constraint(_old_unique_name(), ["github_repo_id"])
