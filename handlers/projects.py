"""Projects follow repositories: created when the App is installed, archived when removed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from itertools import count
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Project, utcnow
from store.upserts import get_or_create_repo_project

_NOT_DNS = re.compile(r"[^a-z0-9-]+")


def project_slug(repo_name: str) -> str:
    """A DNS label from a repository name: `My_Shop.web` → `my-shop-web`."""
    slug = _NOT_DNS.sub("-", repo_name.lower()).strip("-")
    return (slug or "app")[:63].rstrip("-")


def _names(wanted: str, owner: str) -> Iterator[str]:
    """Names to try for a new project, in order: the repository's, then with its owner, then numbered."""
    with_owner = project_slug(f"{wanted}-{owner}")
    yield wanted
    yield with_owner
    for suffix in count(2):
        yield f"{with_owner[:58]}-{suffix}"


async def upsert_project(
    session: AsyncSession, repo: dict[str, Any], installation_id: int | None, app: str = ""
) -> Project:
    """The project of a repository (or of one of its apps, named `<repo>-<app>`), created on
    first sight and restored if it was archived."""
    full_name = repo.get("full_name") or repo["name"]
    owner = full_name.split("/", 1)[0]
    wanted = project_slug(f"{repo['name']}-{app}" if app else repo["name"])
    project = await get_or_create_repo_project(session, repo["id"], _names(wanted, owner), app)
    project.full_name = full_name
    project.installation_id = installation_id
    project.private = bool(repo.get("private", True))
    if repo.get("default_branch"):
        project.default_branch = repo["default_branch"]
    project.archived_at = None
    await session.flush()
    return project


async def archive_projects(session: AsyncSession, repo_ids: list[int], when: datetime | None = None) -> int:
    """Archive the projects of these repositories, keeping their history; returns how many."""
    projects = (await session.scalars(select(Project).where(Project.github_repo_id.in_(repo_ids)))).all()
    for project in projects:
        project.archived_at = project.archived_at or when or utcnow()
    return len(projects)
