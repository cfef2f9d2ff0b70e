"""What the deploy queue's jobs read before they start: a deployment, its project, or both."""

from __future__ import annotations

from sqlalchemy import select

from store.db import Sessions, reading
from store.models import Deployment, Project


async def deployment_by_id(sessions: Sessions, deployment_id: int) -> Deployment | None:
    """The stored deployment (None when it is gone)."""
    async with reading(sessions) as tx:
        return await tx.get(Deployment, deployment_id)


async def project_by_id(sessions: Sessions, project_id: int) -> Project | None:
    """The stored project (None when it was deleted)."""
    async with reading(sessions) as tx:
        return await tx.get(Project, project_id)


async def deployment_and_project(sessions: Sessions, deployment_id: int) -> tuple[Deployment, Project] | None:
    """A deployment with its project, read in one query (None when the deployment is gone)."""
    async with reading(sessions) as tx:
        found = (
            await tx.execute(select(Deployment, Project).join(Project).where(Deployment.id == deployment_id))
        ).first()
    return None if found is None else (found[0], found[1])
