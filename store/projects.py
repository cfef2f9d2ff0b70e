"""Projects as stored: found by name or by id, the ones a team sees, or one app of a repository."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, select, true

from store.db import Sessions, Tx
from store.models import Project, Team


def in_team(team: Team) -> ColumnElement[bool]:
    """The condition for a team's projects: its installation's, or all for the local team."""
    return true() if team.installation_id is None else Project.installation_id == team.installation_id


async def project_id_of(sessions: Sessions, name: str) -> int | None:
    """The id of the project called `name` (None when there is none)."""
    async with sessions() as session:
        return await project_id_named(session, name)


async def project_id_named(tx: Tx, name: str) -> int | None:
    """`project_id_of` inside the caller's unit of work."""
    return await tx.scalar(select(Project.id).where(Project.name == name))


async def team_project(tx: Tx, team: Team, name: str) -> Project | None:
    """The project called `name` if `team` may see it."""
    return await tx.scalar(select(Project).where(Project.name == name, in_team(team)))


async def team_projects(tx: Tx, team: Team) -> Sequence[Project]:
    """Every project `team` sees, by name."""
    return (await tx.scalars(select(Project).where(in_team(team)).order_by(Project.name))).all()


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
