"""Stopping a deployment that has not finished: the one change a person makes to a run itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.models import Deployment, Environment, utcnow

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class Stopped:
    """What a stop request found and did: the state before, and whether a live worker runs it."""

    deployment_id: int
    before: str
    after: str
    reason: str | None
    worker_alive: bool


async def stop_deployment(
    sessions: Sessions, deployment_id: int, stop: Callable[[Deployment], None]
) -> Stopped | None:
    """Apply `stop` (the deployer's state change) to the deployment in one transaction, the row
    locked on PostgreSQL; None when there is no such deployment. With no live lease (queued, or
    its worker died) the environment's lock is freed here, since no worker will finish it."""
    now = utcnow()
    async with sessions.begin() as session:
        deployment = await session.get(Deployment, deployment_id, with_for_update=True)
        if deployment is None:
            return None
        before = deployment.state
        stop(deployment)
        alive = deployment.lease_expires_at is not None and deployment.lease_expires_at > now
        if not alive and deployment.state != before:
            environment = await session.get(Environment, deployment.environment_id)
            if environment is not None and environment.locked_by_deployment_id == deployment.id:
                environment.locked_by_deployment_id = None
                environment.locked_at = None
            deployment.lease_expires_at = None
        return Stopped(deployment.id, before, deployment.state, deployment.reason, alive)
