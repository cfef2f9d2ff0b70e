"""The projects of one repository: one per monorepo app (or the repository's only one)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.models import Project


async def app_names(sessions: async_sessionmaker[AsyncSession], repo: str) -> list[str]:
    """The named apps (`apps:`) of the repository `owner/name` that are not archived, by name."""
    async with sessions() as session:
        found = await session.scalars(
            select(Project.app)
            .where(Project.full_name == repo, Project.app != "", Project.archived_at.is_(None))
            .order_by(Project.app)
        )
        return list(found.all())


async def sibling_ids(sessions: async_sessionmaker[AsyncSession], project_id: int) -> list[int]:
    """The ids of every project of the same repository as `project_id`, itself included."""
    async with sessions() as session:
        repo = select(Project.full_name).where(Project.id == project_id).scalar_subquery()
        found = await session.scalars(select(Project.id).where(Project.full_name == repo))
        return list(found.all()) or [project_id]
