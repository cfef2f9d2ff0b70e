"""The environments whose app is live now, and one environment's app state by id: what the
watchers of live apps and the Runtime tab's stream read again and again; and the live builds a
restarted server starts again."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.app_states import EnvironmentStatus, KnownState, shown
from store.models import AppState, Deployment, Environment, Project

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class LiveApp:
    """An active environment's live build, and what is known of its app (None: nothing yet)."""

    project_id: int
    project: str
    environment: str
    environment_id: int
    deployment_id: int
    known: KnownState | None


def _known(row: AppState | None) -> KnownState | None:
    if row is None:
        return None
    lines = tuple(row.last_lines or ())
    return KnownState(row.environment_id, row.deployment_id, row.state, row.since, row.reason, lines)


async def live_apps(sessions: Sessions) -> dict[tuple[str, str], LiveApp]:
    """Every active environment with a live build, by (project, environment)."""
    async with sessions() as session:
        rows = await session.execute(
            select(
                Project.id,
                Project.name,
                Environment.name,
                Environment.id,
                Environment.current_deployment_id,
                AppState,
            )
            .join(Environment, Environment.project_id == Project.id)
            .outerjoin(AppState, AppState.environment_id == Environment.id)
            .where(Environment.state == "active", Environment.current_deployment_id.is_not(None))
        )
        found = {}
        for project_id, project, environment, environment_id, deployment_id, row in rows.all():
            if deployment_id is None:  # filtered out by the query; narrows the type
                continue
            found[(project, environment)] = LiveApp(
                project_id,
                project,
                environment,
                environment_id,
                deployment_id,
                shown(_known(row), deployment_id),
            )
        return found


async def status_by_id(sessions: Sessions, environment_id: int) -> EnvironmentStatus | None:
    """The environment's state, live build and that build's app state; None once it is gone."""
    async with sessions() as session:
        environment = await session.get(Environment, environment_id)
        if environment is None:
            return None
        row = await session.get(AppState, environment_id)
        return EnvironmentStatus(
            environment.id,
            environment.name,
            environment.state,
            environment.current_deployment_id,
            environment.url,
            shown(_known(row), environment.current_deployment_id),
        )


async def restorable(sessions: Sessions) -> list[tuple[Environment, Project, Deployment]]:
    """Every active environment with its project and the deployment it runs, to start again."""
    async with sessions() as session:
        rows = await session.execute(
            select(Environment, Project, Deployment)
            .join(Project, Project.id == Environment.project_id)
            .join(Deployment, Deployment.id == Environment.current_deployment_id)
            .where(Environment.state == "active")
        )
        return [(environment, project, deployment) for environment, project, deployment in rows.all()]


async def current_deployment_id(sessions: Sessions, environment_id: int) -> int | None:
    """The deployment the environment runs now, read fresh."""
    async with sessions() as session:
        return await session.scalar(
            select(Environment.current_deployment_id).where(Environment.id == environment_id)
        )
