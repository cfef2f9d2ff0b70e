"""Removing a project and everything that belongs to it, keeping the activity log's history."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import (
    AuditEvent,
    Deployment,
    DeploymentLog,
    Domain,
    Environment,
    EnvVar,
    Project,
    RequestHit,
)


async def remove_project(session: AsyncSession, project_id: int) -> list[str]:
    """Delete the project's rows (deployments and their logs, variables, domains, traffic,
    environments, then the project); activity entries stay, detached. Returns the hostnames of
    the domains removed, so the caller can stop routing them."""
    hostnames = list(
        (await session.scalars(select(Domain.hostname).where(Domain.project_id == project_id))).all()
    )
    deployments = select(Deployment.id).where(Deployment.project_id == project_id)
    await session.execute(delete(DeploymentLog).where(DeploymentLog.deployment_id.in_(deployments)))
    await session.execute(delete(Deployment).where(Deployment.project_id == project_id))
    for model in (EnvVar, Domain, RequestHit, Environment):
        await session.execute(delete(model).where(model.project_id == project_id))
    await session.execute(
        update(AuditEvent).where(AuditEvent.project_id == project_id).values(project_id=None)
    )
    await session.execute(delete(Project).where(Project.id == project_id))
    return hostnames
