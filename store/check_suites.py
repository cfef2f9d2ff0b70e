"""The deployments AutoStack's check runs report (a check run's `external_id` is its deployment)."""

from __future__ import annotations

from sqlalchemy import select

from store.db import Tx
from store.models import Deployment


async def reported_deployment(tx: Tx, project_id: int, deployment_id: int) -> Deployment | None:
    """The project's deployment a check run reports, if the project made it."""
    return await tx.scalar(
        select(Deployment).where(Deployment.id == deployment_id, Deployment.project_id == project_id)
    )


async def reported_deployments(tx: Tx, project_id: int, sha: str) -> list[Deployment]:
    """The project's deployments of commit `sha` that have a check run."""
    found = await tx.scalars(
        select(Deployment).where(
            Deployment.project_id == project_id,
            Deployment.commit_sha == sha,
            Deployment.check_run_id.is_not(None),
        )
    )
    return list(found.all())
