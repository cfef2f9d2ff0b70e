"""The team-wide lists: every project with its production URL and newest deployment (the
projects page), and the team's newest deployments (`autostack ls`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select

from store.db import Tx
from store.environment_names import PRODUCTION
from store.models import Deployment, Environment, Project, Team
from store.projects import in_team


@dataclass(frozen=True, slots=True)
class NewestDeployment:
    """A project's newest deployment as the list needs it, with its environment's state."""

    id: int
    state: str
    created_at: datetime
    framework: str | None
    commit_sha: str | None
    commit_message: str | None  # the first 200 characters
    ref: str | None
    environment_state: str
    is_live: bool  # the environment's current build


@dataclass(frozen=True, slots=True)
class ProjectSummary:
    """One project of the list: names, production URL and newest deployment (None: never deployed)."""

    name: str
    full_name: str | None
    url: str | None
    newest: NewestDeployment | None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _projects(team: Team, search: str) -> Select[*tuple[Any, ...]]:
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
        .where(Environment.name == PRODUCTION, Environment.state == "active")
        .subquery()
    )
    query = (
        select(Project.name, Project.full_name, production.c.url, newest.label("newest"))
        .where(in_team(team), Project.archived_at.is_(None))
        .outerjoin(production, production.c.project_id == Project.id)
        .order_by(Project.name)
    )
    if search:
        pattern = _like(search)
        query = query.where(
            or_(Project.name.ilike(pattern, escape="\\"), Project.full_name.ilike(pattern, escape="\\"))
        )
    return query


def _newest(ids: list[int]) -> Select[*tuple[Any, ...]]:
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


async def project_summaries(tx: Tx, team: Team, search: str) -> list[ProjectSummary]:
    """The team's live projects whose name or repository contains `search`, in name order."""
    projects = (await tx.execute(_projects(team, search))).all()
    ids = [newest for *_, newest in projects if newest is not None]
    found: dict[int, NewestDeployment] = {}
    if ids:
        for id_, state, created, framework, sha, message, ref, env_state, current in (
            await tx.execute(_newest(ids))
        ).all():
            found[id_] = NewestDeployment(
                id_, state, created, framework, sha, message, ref, env_state, current == id_
            )
    return [
        ProjectSummary(name, full_name, url, found.get(newest_id))
        for name, full_name, url, newest_id in projects
    ]


async def team_deployments(tx: Tx, team: Team, limit: int) -> Sequence[tuple[Deployment, str, Environment]]:
    """The newest `limit` deployments of all the team's projects, each with its project's name
    and its environment."""
    rows = await tx.execute(
        select(Deployment, Project.name, Environment)
        .join(Project, Project.id == Deployment.project_id)
        .join(Environment, Environment.id == Deployment.environment_id)
        .where(in_team(team))
        .order_by(Deployment.id.desc())
        .limit(limit)
    )
    return [(deployment, name, env) for deployment, name, env in rows.all()]
