"""Builds that can go live again without a rebuild: what `/rollback` and `/promote` pick."""

from __future__ import annotations

from sqlalchemy import select

from store.db import Tx
from store.models import Deployment, Environment


async def live_build_of_commit(tx: Tx, project_id: int, environment: str, sha_prefix: str) -> int | None:
    """The newest deployment in `environment` of a commit starting with `sha_prefix` that went
    live with a build (so it can be put back); None when there is none."""
    return await tx.scalar(
        select(Deployment.id)
        .where(
            Deployment.project_id == project_id,
            Deployment.environment == environment,
            Deployment.commit_sha.startswith(sha_prefix),
            Deployment.ready_at.is_not(None),
            Deployment.artifact.is_not(None),
        )
        .order_by(Deployment.id.desc())
    )


async def environment_of_deployment(tx: Tx, project_id: int, deployment_id: int) -> Environment | None:
    """The environment the project's deployment `deployment_id` went to."""
    return await tx.scalar(
        select(Environment)
        .join(Deployment, Deployment.environment_id == Environment.id)
        .where(Deployment.id == deployment_id, Deployment.project_id == project_id)
    )
