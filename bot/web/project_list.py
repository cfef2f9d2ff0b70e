"""The projects list: one query for every project with its newest deployment, its production
URL, search by name and the sort orders the page offers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.web.context import projects_of
from bot.web.states import shown_state
from store.models import Deployment, Environment, Project, Team

SORTS = {"name": "name", "deployed": "last deploy", "state": "state"}
# failing and running projects first: they are the ones someone needs to look at
STATE_ORDER = ("failed", "building", "deploying", "queued", "ready", "superseded", "cancelled", "destroyed")


@dataclass(frozen=True)
class ProjectRow:
    """One line of the projects list."""

    name: str
    full_name: str | None
    url: str | None
    state: str | None
    deployed_at: datetime | None
    framework: str | None
    commit_sha: str | None
    commit_message: str | None
    branch: str | None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def project_query(team: Team, search: str) -> Select[*tuple[Any, ...]]:
    """Every live project of `team` whose name (or repository) contains `search`, with its
    production URL and the id of its newest deployment (an index lookup on (project_id, id))."""
    newest = (
        select(func.max(Deployment.id))
        .where(Deployment.project_id == Project.id)
        .correlate(Project)
        .scalar_subquery()
    )
    production = (
        select(Environment.project_id, Environment.url)
        .where(Environment.name == "production", Environment.state == "active")
        .subquery()
    )
    query = (
        select(Project.name, Project.full_name, production.c.url, newest.label("newest"))
        .where(projects_of(team), Project.archived_at.is_(None))
        .outerjoin(production, production.c.project_id == Project.id)
        .order_by(Project.name)
    )
    if search:
        pattern = _like(search)
        query = query.where(
            or_(Project.name.ilike(pattern, escape="\\"), Project.full_name.ilike(pattern, escape="\\"))
        )
    return query


def newest_query(ids: list[int]) -> Select[*tuple[Any, ...]]:
    """The deployments `ids` with their environment's state and live build, by primary key.

    A second query rather than a join: PostgreSQL plans a join on the correlated newest id as a
    hash of every deployment (300 ms with 50,000), and SQLite has no LATERAL."""
    return (
        select(
            Deployment.id,
            Deployment.state,
            Deployment.created_at,
            Deployment.framework,
            Deployment.commit_sha,
            func.substr(Deployment.commit_message, 1, 200),
            Deployment.ref,
            Environment.state,
            Environment.current_deployment_id,
        )
        .join(Environment, Environment.id == Deployment.environment_id)
        .where(Deployment.id.in_(ids))
    )


async def project_rows(session: AsyncSession, team: Team, search: str) -> list[ProjectRow]:
    """The projects list's rows in name order."""
    projects = (await session.execute(project_query(team, search))).all()
    ids = [newest for *_, newest in projects if newest is not None]
    newest = {row[0]: row for row in (await session.execute(newest_query(ids))).all()} if ids else {}
    rows = []
    for name, full_name, url, newest_id in projects:
        found = newest.get(newest_id)
        if found is None:
            rows.append(ProjectRow(name, full_name, url, None, None, None, None, None, None))
            continue
        deployment_id, state, created, framework, sha, message, ref, env_state, current = found
        rows.append(
            ProjectRow(
                name=name,
                full_name=full_name,
                url=url,
                state=shown_state(state, env_state, current == deployment_id),
                deployed_at=created,
                framework=framework,
                commit_sha=sha,
                commit_message=(message or "").split("\n", 1)[0] or None,
                branch=ref,
            )
        )
    return rows


def sort_rows(rows: list[ProjectRow], key: str) -> list[ProjectRow]:
    """The rows in the order `key` names (see SORTS); an unknown key keeps name order."""
    if key == "deployed":
        never = datetime.min.replace(tzinfo=None)
        return sorted(
            rows, key=lambda r: r.deployed_at.replace(tzinfo=None) if r.deployed_at else never, reverse=True
        )
    if key == "state":
        rank = {state: i for i, state in enumerate(STATE_ORDER)}
        return sorted(rows, key=lambda r: (rank.get(r.state or "", len(rank)), r.name))
    return sorted(rows, key=lambda r: r.name)
