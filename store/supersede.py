"""Deployments that end because something else took over their environment: superseded by a
newer deployment, or cancelled with the environment when it is destroyed.

Each function says which deployments it stopped, so the caller can tell the processes running
them once the change is committed (deployer.stops).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.check_gates import HELD
from store.deployments import IN_PROGRESS, advance, environment_named
from store.models import Deployment, utcnow

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class SupersedeOutcome:
    """What a deployment about to start found among its environment's other deployments."""

    newer: int | None  # a newer one under way: the deployment itself was superseded by it
    replaced: tuple[int, ...] = ()  # older ones no run of theirs will report (queued, or parked)
    stopped: tuple[int, ...] = ()  # every older one superseded, running or not


async def supersede_older(session: AsyncSession, deployment: Deployment, now: datetime) -> SupersedeOutcome:
    """Supersede the environment's older in-progress deployments by `deployment`, inside the
    caller's transaction; when a newer one is in progress, `deployment` is superseded instead."""
    others = (
        await session.scalars(
            select(Deployment).where(
                Deployment.environment_id == deployment.environment_id,
                Deployment.state.in_(IN_PROGRESS),
                Deployment.id != deployment.id,
            )
        )
    ).all()
    if any(other.id > deployment.id for other in others):
        newer = max(other.id for other in others)
        advance(deployment, "superseded", now, f"superseded by deployment {newer}")
        return SupersedeOutcome(newer)
    replaced = []
    for other in others:
        # no run of theirs is left to report the end: queued, or parked waiting for checks
        if other.state in ("queued", *HELD):
            replaced.append(other.id)
        advance(other, "superseded", now, f"superseded by deployment {deployment.id}")
    return SupersedeOutcome(None, tuple(replaced), tuple(other.id for other in others))


@dataclass(frozen=True, slots=True)
class Destroyed:
    """An environment marked destroyed, and the deployments of it that were cancelled."""

    project_id: int
    cancelled: tuple[int, ...]


async def destroy_environment(sessions: Sessions, project: str, environment: str) -> Destroyed | None:
    """Cancel the environment's in-progress deployments and mark it destroyed (no live build, no
    lock); None when the project has no such environment."""
    now = utcnow()
    async with sessions.begin() as session:
        env = await environment_named(session, project, environment)
        if env is None:
            return None
        running = await session.scalars(
            select(Deployment).where(Deployment.environment_id == env.id, Deployment.state.in_(IN_PROGRESS))
        )
        cancelled = []
        for deployment in running.all():
            advance(deployment, "cancelled", now, f"{environment} was destroyed")
            cancelled.append(deployment.id)
        env.state, env.destroyed_at, env.current_deployment_id = "destroyed", now, None
        env.locked_by_deployment_id = None
        return Destroyed(env.project_id, tuple(cancelled))
