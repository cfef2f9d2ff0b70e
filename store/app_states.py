"""Live apps' states after go-live, one row per environment (deployer.app_state names the
states; the store keeps whatever it is given)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.models import AppState, Environment, Project

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class KnownState:
    """What is known of one environment's live app."""

    environment_id: int
    deployment_id: int
    state: str
    since: datetime
    reason: str
    last_lines: tuple[str, ...]


def _known(row: AppState) -> KnownState:
    return KnownState(
        row.environment_id, row.deployment_id, row.state, row.since, row.reason, tuple(row.last_lines or ())
    )


async def record(
    sessions: Sessions,
    project: str,
    environment: str,
    deployment_id: int,
    state: str,
    since: datetime,
    reason: str,
    last_lines: Iterable[str],
) -> str | None:
    """Store the app's state; return the state known before for that same deployment (None when
    none was: another deployment's, or none at all), so the caller can tell news from repeats."""
    async with sessions.begin() as session:
        environment_id = await session.scalar(
            select(Environment.id)
            .join(Project, Project.id == Environment.project_id)
            .where(Project.name == project, Environment.name == environment)
        )
        if environment_id is None:
            raise LookupError(f"no environment {project}/{environment}")
        # locked: watchers in several workers telling the same change find one of them first
        row = await session.get(AppState, environment_id, with_for_update=True)
        before = row.state if row is not None and row.deployment_id == deployment_id else None
        if row is None:
            row = AppState(environment_id=environment_id)
            session.add(row)
        row.deployment_id, row.state, row.since, row.reason = deployment_id, state, since, reason
        row.last_lines = list(last_lines)
    return before


async def current(sessions: Sessions, environment_ids: Iterable[int]) -> dict[int, KnownState]:
    """Each environment's known app state, where one is known, by environment id."""
    ids = list(set(environment_ids))
    if not ids:
        return {}
    async with sessions() as session:
        rows = await session.scalars(select(AppState).where(AppState.environment_id.in_(ids)))
        return {row.environment_id: _known(row) for row in rows}


def shown(known: KnownState | None, current_deployment_id: int | None) -> KnownState | None:
    """The state to show for an environment whose live build is `current_deployment_id`: one
    recorded for an earlier build says nothing about this one."""
    if known is None or known.deployment_id != current_deployment_id:
        return None
    return known


@dataclass(frozen=True, slots=True)
class EnvironmentStatus:
    """An environment, its live build and that build's app state (None: nothing known: live)."""

    environment_id: int
    name: str
    state: str  # active | destroyed
    current_deployment_id: int | None
    url: str | None
    app: KnownState | None


async def environment_status(sessions: Sessions, project_id: int, name: str) -> EnvironmentStatus | None:
    """The project's environment called `name`, or None when it has none of that name."""
    async with sessions() as session:
        environment = await session.scalar(
            select(Environment).where(Environment.project_id == project_id, Environment.name == name)
        )
        if environment is None:
            return None
        row = await session.get(AppState, environment.id)
        return EnvironmentStatus(
            environment.id,
            environment.name,
            environment.state,
            environment.current_deployment_id,
            environment.url,
            shown(_known(row) if row else None, environment.current_deployment_id),
        )
