"""What the cluster should hold according to the database: the reconciler removes the rest."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.models import Environment, Project

Sessions = async_sessionmaker[AsyncSession]


async def active_environments(sessions: Sessions) -> set[tuple[str, str]]:
    """(project, environment) of every active environment."""
    async with sessions() as session:
        rows = await session.execute(
            select(Project.name, Environment.name)
            .join(Environment, Environment.project_id == Project.id)
            .where(Environment.state == "active")
        )
        return {(project, environment) for project, environment in rows.all()}
