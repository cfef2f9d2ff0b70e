"""The pipeline's database steps: claim, supersede, record phases, finish, recover."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from deployer.state import IN_PROGRESS, advance, can_move, phase_started
from store.check_gates import HELD
from store.leases import LEASE, deployment_lease_expired, process_owner
from store.models import Deployment, Environment, Project, utcnow

log = logging.getLogger("autostack.deployer")
Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class Claim:
    """What the pipeline needs to know about a deployment it now owns."""

    deployment: Deployment
    project: Project
    environment: Environment
    superseded: tuple[int, ...]  # queued deployments this one replaced before they started


async def claim(sessions: Sessions, deployment_id: int) -> Claim | None:
    """Take a queued deployment, superseding older in-progress ones of its environment.

    None when the deployment is gone, no longer queued, or a newer one already exists.
    """
    now = utcnow()
    async with sessions.begin() as session:
        deployment = await session.get(Deployment, deployment_id)
        if deployment is None or deployment.state != "queued":
            return None
        others = (
            await session.scalars(
                select(Deployment).where(
                    Deployment.environment_id == deployment.environment_id,
                    Deployment.state.in_(IN_PROGRESS),
                    Deployment.id != deployment_id,
                )
            )
        ).all()
        if any(other.id > deployment_id for other in others):
            newer = max(other.id for other in others)
            advance(deployment, "superseded", now, f"superseded by deployment {newer}")
            return None
        replaced = []
        for other in others:
            # no run of theirs is left to report the end: queued, or parked waiting for checks
            if other.state in ("queued", *HELD):
                replaced.append(other.id)
            advance(other, "superseded", now, f"superseded by deployment {deployment_id}")
        project = await session.get(Project, deployment.project_id)
        environment = await session.get(Environment, deployment.environment_id)
        assert project is not None and environment is not None
        environment.locked_by_deployment_id = deployment_id
        environment.locked_at = now
        environment.last_activity_at = now
        # renewed while it runs (pipeline._watch); a replica fails it only once this expires
        deployment.claimed_by = process_owner()
        deployment.lease_expires_at = now + LEASE
        return Claim(deployment, project, environment, tuple(replaced))


async def start_phase(
    sessions: Sessions,
    deployment_id: int,
    phase: str,
    state: str | None = None,
    *,
    after_line: int | None = None,
) -> None:
    """Stamp the phase's start (and move the state) in the stored deployment."""
    now = utcnow()
    async with sessions.begin() as session:
        deployment = await session.get(Deployment, deployment_id)
        assert deployment is not None
        deployment.phases = phase_started(deployment.phases or {}, phase, now, after_line)
        if state is not None and state != deployment.state:
            advance(deployment, state, now)


async def mark_error_line(sessions: Sessions, deployment_id: int, phase: str, line: int) -> None:
    """Remember which log line the failure summary of `phase` quotes (the page links to it)."""
    async with sessions.begin() as session:
        deployment = await session.get(Deployment, deployment_id)
        assert deployment is not None
        phases = {name: dict(value) for name, value in (deployment.phases or {}).items()}
        if phase in phases:
            phases[phase]["error_line"] = line
            deployment.phases = phases


async def state_of(sessions: Sessions, deployment_id: int) -> str | None:
    """The stored state, read fresh (another worker may have superseded the deployment)."""
    async with sessions() as session:
        return await session.scalar(select(Deployment.state).where(Deployment.id == deployment_id))


async def update(sessions: Sessions, deployment_id: int, **values: object) -> None:
    """Set columns of the stored deployment."""
    async with sessions.begin() as session:
        deployment = await session.get(Deployment, deployment_id)
        assert deployment is not None
        for name, value in values.items():
            setattr(deployment, name, value)


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
        if environment is not None and environment.locked_by_deployment_id == deployment_id:
            environment.locked_by_deployment_id = None
            environment.locked_at = None
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
        environment = await session.get(Environment, deployment.environment_id)
        if environment is not None and environment.locked_by_deployment_id == deployment_id:
            environment.locked_by_deployment_id = None
            environment.locked_at = None
        return True


async def recover_interrupted(sessions: Sessions) -> list[int]:
    """Fail deployments left building or deploying by a process that died (its lease expired);
    return their ids. Those another live process runs are left alone, and queued ones stay queued.

    A deploy worker calls this at start-up and every few seconds after.
    """
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
            environment = await session.get(Environment, deployment.environment_id)
            if environment is not None and environment.locked_by_deployment_id == deployment.id:
                environment.locked_by_deployment_id = None
                environment.locked_at = None
            log.warning(
                "deployment %s was interrupted", deployment.id, extra={"deployment_id": deployment.id}
            )
        return [d.id for d in stuck]


async def mark_seeded(sessions: Sessions, environment_id: int) -> None:
    """Record that the environment's seed command ran, so no later deployment runs it again."""
    async with sessions.begin() as session:
        environment = await session.get(Environment, environment_id)
        if environment is not None:
            environment.seeded_at = utcnow()
