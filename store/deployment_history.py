"""A deployment's neighbours in its environment's history and what changed between two of them:
the reads behind a deployment page's redeploy and "compare with previous"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.models import AuditEvent, Deployment, Environment

Sessions = async_sessionmaker[AsyncSession]
ENV_ACTIONS = ("env.set", "env.delete")


@dataclass(frozen=True, slots=True)
class EnvChange:
    """One activity-log entry that set or removed variables (names only, never values)."""

    action: str
    names: tuple[str, ...]
    scope: str
    actor: str
    at: datetime


async def previous_live(sessions: Sessions, deployment: Deployment) -> Deployment | None:
    """The newest earlier deployment of the same environment that went live, if any."""
    async with sessions() as session:
        return await session.scalar(
            select(Deployment)
            .where(
                Deployment.environment_id == deployment.environment_id,
                Deployment.id < deployment.id,
                Deployment.ready_at.is_not(None),
            )
            .order_by(Deployment.id.desc())
            .limit(1)
        )


async def newest_of_environment(sessions: Sessions, environment_id: int) -> int | None:
    """The id of the environment's newest deployment."""
    async with sessions() as session:
        return await session.scalar(
            select(func.max(Deployment.id)).where(Deployment.environment_id == environment_id)
        )


async def environment_of(sessions: Sessions, deployment: Deployment) -> Environment | None:
    """The environment row a deployment belongs to."""
    async with sessions() as session:
        return await session.get(Environment, deployment.environment_id)


async def env_changes_between(
    sessions: Sessions, project_id: int, scopes: tuple[str, ...], since: datetime, until: datetime
) -> list[EnvChange]:
    """The project's variable changes in `scopes` logged after `since` and up to `until`, oldest first."""
    async with sessions() as session:
        rows = (
            await session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.project_id == project_id,
                    AuditEvent.action.in_(ENV_ACTIONS),
                    AuditEvent.created_at > since,
                    AuditEvent.created_at <= until,
                )
                .order_by(AuditEvent.id)
            )
        ).all()
    changes = [_change(row) for row in rows]
    return [change for change in changes if change.scope in scopes]


def _change(row: AuditEvent) -> EnvChange:
    details: dict[str, Any] = dict(row.details or {})
    # env.set logs the keys of one request joined by ", "; names cannot hold either character
    names = tuple(name.strip() for name in (row.target or "").split(",") if name.strip())
    return EnvChange(row.action, names, str(details.get("scope", "all")), row.actor, row.created_at)
