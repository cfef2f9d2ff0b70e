"""An environment's verified custom domains, read from the store for the target's routing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from deployer.targets.base import DomainSource
from store.models import Domain, Project


def verified_domains(sessions: async_sessionmaker[AsyncSession]) -> DomainSource:
    """A DomainSource answering from the database; pending domains are left out."""

    async def domains_for(project: str, environment: str) -> tuple[str, ...]:
        async with sessions() as session:
            rows = await session.scalars(
                select(Domain.hostname)
                .join(Project, Project.id == Domain.project_id)
                .where(
                    Project.name == project,
                    Domain.environment == environment,
                    Domain.state == "verified",
                )
                .order_by(Domain.hostname)
            )
            return tuple(rows)

    return domains_for
