"""Projects follow repositories: created when the App is installed, archived when removed."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Project, utcnow

_NOT_DNS = re.compile(r"[^a-z0-9-]+")


def project_slug(repo_name: str) -> str:
    """A DNS label from a repository name: `My_Shop.web` → `my-shop-web`."""
    slug = _NOT_DNS.sub("-", repo_name.lower()).strip("-")
    return (slug or "app")[:63].rstrip("-")


async def _free_name(session: AsyncSession, wanted: str, owner: str) -> str:
    candidates = [wanted, project_slug(f"{wanted}-{owner}")]
    for candidate in candidates:
        if await session.scalar(select(Project.id).where(Project.name == candidate)) is None:
            return candidate
    suffix = 2
    while True:
        candidate = f"{candidates[1][:58]}-{suffix}"
        if await session.scalar(select(Project.id).where(Project.name == candidate)) is None:
            return candidate
        suffix += 1


async def upsert_project(session: AsyncSession, repo: dict[str, Any], installation_id: int | None) -> Project:
    """The project of a repository, created on first sight and restored if it was archived."""
    project = await session.scalar(select(Project).where(Project.github_repo_id == repo["id"]))
    full_name = repo.get("full_name") or repo["name"]
    if project is None:
        owner = full_name.split("/", 1)[0]
        project = Project(
            name=await _free_name(session, project_slug(repo["name"]), owner),
            github_repo_id=repo["id"],
        )
        session.add(project)
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
