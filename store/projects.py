"""Projects as stored: found by name, by id, or as one app of a repository."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.db import Tx
from store.models import Project


async def project_id_of(sessions: async_sessionmaker[AsyncSession], name: str) -> int | None:
    """The id of the project called `name` (None when there is none)."""
    async with sessions() as session:
        return await session.scalar(select(Project.id).where(Project.name == name))


async def project_by_id(tx: Tx, project_id: int) -> Project:
    """The project with this id, which the caller knows exists (projects are archived, never
    deleted, while events about them arrive)."""
    project = await tx.get(Project, project_id)
    if project is None:
        raise LookupError(f"project {project_id} is not in the store")
    return project


async def project_of_app(tx: Tx, github_repo_id: int, app: str) -> Project | None:
    """The project of one app of a repository ("" for a one-app repository), archived or not."""
    return await tx.scalar(
        select(Project).where(Project.github_repo_id == github_repo_id, Project.app == app)
    )
