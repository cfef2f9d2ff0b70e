"""Projects as stored: found by name."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.models import Project


async def project_id_of(sessions: async_sessionmaker[AsyncSession], name: str) -> int | None:
    """The id of the project called `name` (None when there is none)."""
    async with sessions() as session:
        return await session.scalar(select(Project.id).where(Project.name == name))
