"""Get-or-create that concurrent deliveries cannot race: `INSERT … ON CONFLICT DO NOTHING`, then
read the row back, on SQLite and PostgreSQL alike.

A SELECT-then-INSERT lets two transactions both see nothing and both insert; the second hit
the unique constraint and its delivery was recorded as failed. With ON CONFLICT the second
insert waits for the first (PostgreSQL) or for the write lock (SQLite) and then does nothing,
and the SELECT that follows, a new statement, sees the committed row.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import rows_changed
from store.models import Base, Environment, Installation, Project, Team


async def insert_if_absent(session: AsyncSession, model: type[Base], values: dict[str, Any]) -> bool:
    """Insert one row unless it would break a unique constraint; True when it was inserted."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(insert(model).values(**values).on_conflict_do_nothing())
    return bool(rows_changed(result))


async def get_or_create_installation(
    session: AsyncSession, installation_id: int, account_login: str
) -> Installation:
    """The installation row, created with this account login when there is none."""
    await insert_if_absent(session, Installation, {"id": installation_id, "account_login": account_login})
    row = await session.get(Installation, installation_id)
    assert row is not None, "inserted or already there"
    return row


async def get_or_create_team(session: AsyncSession, installation_id: int, name: str) -> Team:
    """The team of an installation, created under `name` when there is none."""
    await insert_if_absent(session, Team, {"installation_id": installation_id, "name": name})
    team = await session.scalar(select(Team).where(Team.installation_id == installation_id))
    assert team is not None, "inserted or already there"
    return team


async def get_or_create_environment(
    session: AsyncSession, project_id: int, name: str, kind: str
) -> Environment:
    """The project's environment `name`, created (empty, of `kind`) when there is none."""
    await insert_if_absent(session, Environment, {"project_id": project_id, "name": name, "kind": kind})
    environment = await session.scalar(
        select(Environment).where(Environment.project_id == project_id, Environment.name == name)
    )
    assert environment is not None, "inserted or already there"
    return environment


async def get_or_create_named_project(session: AsyncSession, name: str) -> Project:
    """The project called `name` (a CLI deploy's), created when there is none."""
    await insert_if_absent(session, Project, {"name": name})
    project = await session.scalar(select(Project).where(Project.name == name))
    assert project is not None, "inserted or already there"
    return project


async def get_or_create_repo_project(
    session: AsyncSession, github_repo_id: int, names: Iterable[str], app: str = ""
) -> Project:
    """The project of a repository's app ("" when it is one app); a new one takes the first of
    `names` no other project holds (another repository may take a name between two tries, so
    each is tried in turn)."""
    mine = select(Project).where(Project.github_repo_id == github_repo_id, Project.app == app)
    for name in names:
        project = await session.scalar(mine)
        if project is not None:
            return project
        if await session.scalar(select(Project.id).where(Project.name == name)) is None:
            await insert_if_absent(
                session, Project, {"name": name, "github_repo_id": github_repo_id, "app": app}
            )
    project = await session.scalar(mine)
    if project is None:
        raise ValueError(f"no free project name for repository {github_repo_id}")
    return project
