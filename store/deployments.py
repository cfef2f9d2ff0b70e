"""The deployment aggregate: the states a deployment moves through (with their timestamps and
phase stamps), its row queued and read back, and the builds an environment can go back to.

The state machine lives with the rows it guards, so no writer of a deployment's state can skip
it; `deployer.state` re-exports what the layers above read of it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.check_gates import BLOCKED, HELD, WAITING
from store.models import Deployment, Environment, Project, utcnow

Sessions = async_sessionmaker[AsyncSession]

# waiting / blocked: built, held until the required checks pass (`deploy.after: checks`)
IN_PROGRESS = ("queued", "building", *HELD, "deploying")
TERMINAL = ("ready", "failed", "cancelled", "superseded")
# a run in one of these was stopped from outside: the process running it ends it
STOPPED = ("superseded", "cancelled")
_NEXT: dict[str, frozenset[str]] = {
    "queued": frozenset({"building", "deploying", "failed", "cancelled", "superseded"}),
    # back to queued: a temporary error (the cluster throttling, a database failover) starts it over
    "building": frozenset({"deploying", *HELD, "queued", "failed", "cancelled", "superseded"}),
    WAITING: frozenset({BLOCKED, "deploying", "failed", "cancelled", "superseded"}),
    BLOCKED: frozenset({WAITING, "deploying", "failed", "cancelled", "superseded"}),
    "deploying": frozenset({"ready", "queued", "failed", "cancelled", "superseded"}),
}


class StateError(RuntimeError):
    """A transition the state machine does not allow (a bug, or a race lost to another worker)."""


def can_move(current: str, new: str) -> bool:
    """Whether a deployment in `current` may move to `new`."""
    return new in _NEXT.get(current, frozenset())


def advance(deployment: Deployment, new: str, now: datetime, reason: str | None = None) -> None:
    """Move `deployment` to `new`, stamping when it started, became ready or finished."""
    if not can_move(deployment.state, new):
        raise StateError(f"deployment {deployment.id} cannot go from {deployment.state} to {new}")
    deployment.state = new
    if new in ("building", "deploying") and deployment.started_at is None:
        deployment.started_at = now
    if new == "ready":
        deployment.ready_at = now
    if new in TERMINAL:
        deployment.finished_at = now
    if new in TERMINAL or new == "queued":
        deployment.reason = reason
        deployment.phases = close_phases(deployment.phases or {}, now)


def phase_started(
    phases: dict[str, Any], phase: str, now: datetime, after_line: int | None = None
) -> dict[str, Any]:
    """A new phases dict with `phase` started and any open phase closed.

    `after_line` is the last log line written before the phase began, so a reader of the log
    can put the phase's header right before its first line.
    """
    updated = close_phases(phases, now)
    updated[phase] = {"started_at": now.isoformat()}
    if after_line is not None:
        updated[phase]["after_line"] = after_line
    return updated


def close_phases(phases: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A new phases dict with every open phase finished at `now`."""
    updated = {name: dict(value) for name, value in phases.items()}
    for value in updated.values():
        if "finished_at" not in value:
            started = datetime.fromisoformat(value["started_at"])
            value["finished_at"] = now.isoformat()
            value["seconds"] = round((now - started).total_seconds(), 3)
    return updated


async def add_deployment(
    session: AsyncSession, project: Project, env: Environment, *, trigger: str, **fields: Any
) -> Deployment:
    """A queued deployment of `env`; the one already made for the same delivery if there is one.

    Keyed by (delivery_id, environment) so a redelivered or retried event has one effect.
    """
    delivery_id = fields.get("delivery_id")
    if delivery_id is not None:
        existing = await session.scalar(
            select(Deployment).where(
                Deployment.delivery_id == delivery_id, Deployment.environment_id == env.id
            )
        )
        if existing is not None:
            return existing
    deployment = Deployment(
        project_id=project.id, environment_id=env.id, environment=env.name, trigger=trigger, **fields
    )
    session.add(deployment)
    env.last_activity_at = utcnow()
    await session.flush()
    return deployment


async def environment_named(session: AsyncSession, project: str, environment: str) -> Environment | None:
    """The environment `environment` of the project called `project`, if both exist."""
    return await session.scalar(
        select(Environment).join(Project).where(Project.name == project, Environment.name == environment)
    )


async def with_project(session: AsyncSession, deployment_id: int) -> tuple[Deployment, Project] | None:
    """The deployment and its project; None when there is no such deployment."""
    deployment = await session.get(Deployment, deployment_id)
    if deployment is None:
        return None
    project = await session.get(Project, deployment.project_id)
    assert project is not None, "a deployment's project outlives it"
    return deployment, project


async def live_build(session: AsyncSession, environment_id: int, deployment_id: int) -> Deployment | None:
    """Deployment `deployment_id` of the environment if it went live and kept its build."""
    return await session.scalar(_went_live(environment_id).where(Deployment.id == deployment_id))


async def previous_live_build(session: AsyncSession, env: Environment) -> Deployment | None:
    """The newest build of `env` that went live before the one it runs now."""
    current = env.current_deployment_id
    return await session.scalar(
        _went_live(env.id)
        .where(Deployment.id != (current or 0), Deployment.id < (current or 2**62))
        .order_by(Deployment.id.desc())
    )


def _went_live(environment_id: int) -> Select[Deployment]:
    return select(Deployment).where(
        Deployment.environment_id == environment_id,
        Deployment.ready_at.is_not(None),
        Deployment.artifact.is_not(None),
    )


async def deployment(sessions: Sessions, deployment_id: int) -> Deployment | None:
    """The stored deployment, read fresh."""
    async with sessions() as session:
        return await session.get(Deployment, deployment_id)


async def state_of(sessions: Sessions, deployment_id: int) -> str | None:
    """The stored state, read fresh (another worker may have superseded the deployment)."""
    async with sessions() as session:
        return await session.scalar(select(Deployment.state).where(Deployment.id == deployment_id))


async def phases_of(sessions: Sessions, deployment_id: int) -> dict[str, Any]:
    """The deployment's phase stamps as stored ({} when it is gone)."""
    async with sessions() as session:
        phases = await session.scalar(select(Deployment.phases).where(Deployment.id == deployment_id))
        return dict(phases or {})


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
        row = await session.get(Deployment, deployment_id)
        assert row is not None
        row.phases = phase_started(row.phases or {}, phase, now, after_line)
        if state is not None and state != row.state:
            advance(row, state, now)


async def mark_error_line(sessions: Sessions, deployment_id: int, phase: str, line: int) -> None:
    """Remember which log line the failure summary of `phase` quotes (the page links to it)."""
    async with sessions.begin() as session:
        row = await session.get(Deployment, deployment_id)
        assert row is not None
        phases = {name: dict(value) for name, value in (row.phases or {}).items()}
        if phase in phases:
            phases[phase]["error_line"] = line
            row.phases = phases


async def update(sessions: Sessions, deployment_id: int, **values: object) -> None:
    """Set columns of the stored deployment."""
    async with sessions.begin() as session:
        row = await session.get(Deployment, deployment_id)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)
