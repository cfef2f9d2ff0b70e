"""Rows a reporter test starts from: an installation, a project, an environment, deployments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.models import Deployment, Environment, Installation, Project

REPO = "octo-org/shop"
T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


@dataclass
class Seeded:
    project_id: int
    environment_id: int
    environment: str


async def seed_environment(
    sessions: async_sessionmaker[AsyncSession], *, kind: str = "preview", pr_number: int | None = 12
) -> Seeded:
    name = "production" if kind == "production" else f"pr-{pr_number}"
    async with sessions() as session:
        if await session.get(Installation, 1) is None:
            session.add(Installation(id=1, account_login="octo-org"))
            await session.flush()
        project = Project(name="shop", installation_id=1, full_name=REPO, github_repo_id=99)
        session.add(project)
        await session.flush()
        environment = Environment(
            project_id=project.id, name=name, kind=kind, pr_number=pr_number if kind == "preview" else None
        )
        session.add(environment)
        await session.commit()
        return Seeded(project.id, environment.id, name)


async def add_deployment(
    sessions: async_sessionmaker[AsyncSession],
    seeded: Seeded,
    sha: str,
    *,
    pr_number: int | None = 12,
) -> int:
    async with sessions() as session:
        row = Deployment(
            project_id=seeded.project_id,
            environment_id=seeded.environment_id,
            environment=seeded.environment,
            trigger="pull_request",
            commit_sha=sha,
            pr_number=pr_number,
            created_at=T0,
        )
        session.add(row)
        await session.commit()
        return row.id


async def finish_row(
    sessions: async_sessionmaker[AsyncSession], deployment_id: int, **values: object
) -> None:
    """What the deployer writes before it emits Finished."""
    async with sessions() as session:
        await session.execute(
            update(Deployment).where(Deployment.id == deployment_id).values(finished_at=T0, **values)
        )
        await session.commit()
