"""Projects follow their GitHub repositories: made on first sight, renamed with them, archived
when the repository goes (their history stays)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from store.db import Tx
from store.models import Project, utcnow
from store.upserts import get_or_create_repo_project


async def follow_repository(
    tx: Tx,
    github_repo_id: int,
    app: str,
    names: Iterable[str],
    *,
    full_name: str,
    installation_id: int | None,
    private: bool,
    default_branch: str | None,
) -> Project:
    """The project of a repository's app ("" for a one-app repository), made on first sight
    under the first free of `names`, brought up to date with the repository and restored if
    it was archived."""
    project = await get_or_create_repo_project(tx, github_repo_id, names, app)
    project.full_name = full_name
    project.installation_id = installation_id
    project.private = private
    if default_branch:
        project.default_branch = default_branch
    project.archived_at = None
    await tx.flush()
    return project


async def projects_of_repository(tx: Tx, github_repo_id: int) -> list[Project]:
    """Every project of the repository, archived ones too."""
    found = await tx.scalars(select(Project).where(Project.github_repo_id == github_repo_id))
    return list(found.all())


async def archive_repositories(tx: Tx, github_repo_ids: Iterable[int]) -> list[Project]:
    """Archive the projects of these repositories, keeping their history (and the time of an
    earlier archiving); returns the projects."""
    found = await tx.scalars(
        select(Project).where(Project.github_repo_id.in_(list(github_repo_ids))).order_by(Project.id)
    )
    projects = list(found.all())
    now = utcnow()
    for project in projects:
        project.archived_at = project.archived_at or now
    return projects
