"""The activity log: the one way every surface (pages, JSON API, CLI uploads, pull-request
commands, the worker) records who changed what, so each change shows on its team's log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.models import AuditEvent, Project, Team


@dataclass(frozen=True)
class Actor:
    """Who makes a change, for its activity-log entry: a login, their team, where from."""

    login: str
    team_id: int
    source_ip: str | None = None


async def team_of_project(session: AsyncSession, project_id: int) -> int | None:
    """The team that sees the project: its installation's, or the local team for a project with
    no installation (CLI deploys); None when there is no such team yet."""
    return await session.scalar(
        select(Team.id)
        .join(Project, Team.installation_id.is_not_distinct_from(Project.installation_id))
        .where(Project.id == project_id)
        .order_by(Team.id)
        .limit(1)
    )


async def team_of_installation(session: AsyncSession, installation_id: int) -> int | None:
    """The team of an App installation; None when it has none yet."""
    return await session.scalar(
        select(Team.id).where(Team.installation_id == installation_id).order_by(Team.id).limit(1)
    )


async def record_activity(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    target: str | None = None,
    project_id: int | None = None,
    team_id: int | None = None,
    source_ip: str | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an activity-log entry (never a secret value in `details`). Without `team_id` the
    entry goes to the project's team, so a caller that speaks for no saved team (the local
    admin token, a pull-request comment, the worker) still lands on the team's log."""
    if team_id is None and project_id is not None:
        team_id = await team_of_project(session, project_id)
    entry = AuditEvent(
        team_id=team_id,
        project_id=project_id,
        actor=actor,
        action=action,
        target=target,
        details=details,
        source_ip=source_ip,
    )
    session.add(entry)
    return entry


async def record_change(
    session: AsyncSession, by: Actor, action: str, target: str, project_id: int | None = None, **details: Any
) -> AuditEvent:
    """Add `by`'s change to their team's activity log, in the caller's transaction."""
    return await record_activity(
        session,
        actor=by.login,
        action=action,
        target=target,
        project_id=project_id,
        team_id=by.team_id,
        source_ip=by.source_ip,
        **details,
    )


async def record_github_change(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    target: str,
    project_id: int | None = None,
    installation_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    """Add what a GitHub event changed (an installation, a repository) to the log of the
    project's team, or of the installation's team when no project is concerned, in the
    caller's transaction."""
    team_id = await team_of_project(session, project_id) if project_id is not None else None
    if team_id is None and installation_id is not None:
        team_id = await team_of_installation(session, installation_id)
    return await record_activity(
        session,
        actor=actor,
        action=action,
        target=target,
        project_id=project_id,
        team_id=team_id,
        via="github",
        **details,
    )


async def record_environment_activity(
    sessions: async_sessionmaker[AsyncSession], project_name: str, environment: str, action: str, reason: str
) -> int | None:
    """Record what AutoStack itself did to an environment (expired, reclaimed) in its own
    transaction; return the project's id (None when the project is gone)."""
    async with sessions.begin() as session:
        project_id = await session.scalar(select(Project.id).where(Project.name == project_name))
        await record_activity(
            session,
            actor="autostack",
            action=action,
            target=f"{project_name}/{environment}",
            project_id=project_id,
            reason=reason,
        )
        return project_id


async def add_activity(sessions: async_sessionmaker[AsyncSession], **entry: Any) -> None:
    """`record_activity` in a transaction of its own, for a caller that holds no session."""
    async with sessions.begin() as session:
        await record_activity(session, **entry)
