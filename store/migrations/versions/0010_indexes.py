"""indexes for the web pages: newest deployment per project and per environment, activity by team

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 22:55:00
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # max(id) per project / environment as one index lookup each (projects list, project page)
    op.create_index("ix_deployments_project_id_desc", "deployments", ["project_id", "id"])
    op.create_index("ix_deployments_env_id_desc", "deployments", ["environment_id", "id"])
    # the activity page reads a team's newest entries by id
    op.create_index("ix_audit_team_id", "audit_events", ["team_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_team_id", table_name="audit_events")
    op.drop_index("ix_deployments_env_id_desc", table_name="deployments")
    op.drop_index("ix_deployments_project_id_desc", table_name="deployments")
