"""What the expiry of idle previews reads: each active preview, when it last saw activity,
whether a deployment holds it, and the configuration its project's production runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from store.models import Deployment, Environment, Project

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class ActivePreview:
    """An active preview environment and its project's production configuration (None when
    production runs nothing)."""

    project: str
    environment: str
    last_activity_at: datetime
    locked: bool  # a deployment holds the environment's lock
    production_config: dict[str, Any] | None


async def active_previews(sessions: Sessions) -> list[ActivePreview]:
    """Every active preview, with the configuration of the build its project's production runs."""
    production = aliased(Environment)
    async with sessions() as session:
        rows = await session.execute(
            select(
                Project.name,
                Environment.name,
                Environment.last_activity_at,
                Environment.locked_by_deployment_id,
                Deployment.config,
            )
            .join(Project, Project.id == Environment.project_id)
            .outerjoin(
                production,
                and_(production.project_id == Environment.project_id, production.kind == "production"),
            )
            .outerjoin(Deployment, Deployment.id == production.current_deployment_id)
            .where(Environment.kind == "preview", Environment.state == "active")
        )
        return [
            ActivePreview(project, name, last, lock is not None, config or None)
            for project, name, last, lock, config in rows.all()
        ]
