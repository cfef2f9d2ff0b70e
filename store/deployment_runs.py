"""A deployment's run as the store records it: taken by a worker (its environment locked, a
lease on it), ended or queued again (the lock freed), failed when its process died, and stopped
by a person while it has not finished."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.deployments import IN_PROGRESS, advance, can_move
from store.leases import LEASE, deployment_lease_expired, process_owner
from store.models import Deployment, Environment, Project, utcnow
from store.supersede import supersede_older

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class Claim:
    """What the pipeline needs to know about a deployment it now owns."""

    deployment: Deployment
    project: Project
    environment: Environment
    superseded: tuple[int, ...] = ()  # queued deployments this one replaced before they started
    stopped: tuple[int, ...] = ()  # every deployment this one superseded: their runs are to stop


async def claim(sessions: Sessions, deployment_id: int) -> Claim | None:
    """Take a queued deployment, superseding older in-progress ones of its environment.

    None when the deployment is gone, no longer queued, or a newer one already exists.
    """
    now = utcnow()
    async with sessions.begin() as session:
        deployment = await session.get(Deployment, deployment_id)
        if deployment is None or deployment.state != "queued":
            return None
        superseded = await supersede_older(session, deployment, now)
        if superseded.newer is not None:
            return None
        project = await session.get(Project, deployment.project_id)
        environment = await session.get(Environment, deployment.environment_id)
        assert project is not None and environment is not None
        environment.locked_by_deployment_id = deployment_id
        environment.locked_at = now
        environment.last_activity_at = now
        # renewed while it runs (deployer.stops.watch); a replica fails it only once this expires
        deployment.claimed_by = process_owner()
        deployment.lease_expires_at = now + LEASE
        return Claim(deployment, project, environment, superseded.replaced, superseded.stopped)


def _free_lock(environment: Environment | None, deployment_id: int) -> None:
    if environment is not None and environment.locked_by_deployment_id == deployment_id:
        environment.locked_by_deployment_id = None
        environment.locked_at = None


async def finish(
    sessions: Sessions, deployment_id: int, state: str, *, reason: str | None = None, **values: object
) -> Deployment:
    """Move to a terminal state (unless another worker already did), set values, free the lock."""
    now = utcnow()
    async with sessions.begin() as session:
        deployment = await session.get(Deployment, deployment_id)
        assert deployment is not None
        for name, value in values.items():
            setattr(deployment, name, value)
        if can_move(deployment.state, state):
            advance(deployment, state, now, reason)
        deployment.lease_expires_at = None
        environment = await session.get(Environment, deployment.environment_id)
        _free_lock(environment, deployment_id)
        if environment is not None and deployment.state == "ready":
            environment.current_deployment_id = deployment_id
            environment.url = deployment.url
            environment.state = "active"
            environment.destroyed_at = None
        return deployment


async def requeue(sessions: Sessions, deployment_id: int, reason: str) -> bool:
    """Put a deployment a temporary error stopped back in the queue to start over (its phases
    closed, its lock and lease freed); False when it already moved on (superseded, cancelled)."""
    now = utcnow()
    async with sessions.begin() as session:
        deployment = await session.get(Deployment, deployment_id)
        if deployment is None or not can_move(deployment.state, "queued"):
            return False
        advance(deployment, "queued", now, reason)
        deployment.claimed_by = None
        deployment.lease_expires_at = None
        _free_lock(await session.get(Environment, deployment.environment_id), deployment_id)
        return True


async def fail_interrupted(sessions: Sessions) -> list[int]:
    """Fail deployments left building or deploying by a process that died (its lease expired);
    return their ids. Those another live process runs are left alone, and queued ones stay queued."""
    now = utcnow()
    async with sessions.begin() as session:
        query = select(Deployment).where(
            Deployment.state.in_(("building", "deploying")), deployment_lease_expired(now)
        )
        if session.get_bind().dialect.name == "postgresql":
            # two replicas sweeping at once: each expired deployment is failed (and reported) once
            query = query.with_for_update(skip_locked=True)
        stuck = (await session.scalars(query)).all()
        for deployment in stuck:
            advance(
                deployment,
                "failed",
                now,
                f"interrupted: AutoStack stopped while this "
                f"deployment was {deployment.state}; redeploy to try again",
            )
            deployment.lease_expires_at = None
            _free_lock(await session.get(Environment, deployment.environment_id), deployment.id)
        return [d.id for d in stuck]


async def mark_seeded(sessions: Sessions, environment_id: int) -> None:
    """Record that the environment's seed command ran, so no later deployment runs it again."""
    async with sessions.begin() as session:
        environment = await session.get(Environment, environment_id)
        if environment is not None:
            environment.seeded_at = utcnow()


@dataclass(frozen=True, slots=True)
class Stopped:
    """What a stop request found and did: the state before, and whether a live worker runs it."""

    deployment_id: int
    before: str
    after: str
    reason: str | None
    worker_alive: bool


async def stop_deployment(sessions: Sessions, deployment_id: int, reason: str) -> Stopped | None:
    """Cancel the deployment with `reason` if it is in progress, in one transaction, the row
    locked on PostgreSQL; None when there is no such deployment. With no live lease (queued, or
    its worker died) the environment's lock is freed here, since no worker will finish it."""
    now = utcnow()
    async with sessions.begin() as session:
        deployment = await session.get(Deployment, deployment_id, with_for_update=True)
        if deployment is None:
            return None
        before = deployment.state
        if before in IN_PROGRESS:
            advance(deployment, "cancelled", now, reason)
        alive = deployment.lease_expires_at is not None and deployment.lease_expires_at > now
        if not alive and deployment.state != before:
            _free_lock(await session.get(Environment, deployment.environment_id), deployment.id)
            deployment.lease_expires_at = None
        return Stopped(deployment.id, before, deployment.state, deployment.reason, alive)
