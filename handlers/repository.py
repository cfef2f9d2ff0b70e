"""repository: a renamed, transferred or re-defaulted repository keeps its project."""

from __future__ import annotations

from handlers.context import Context
from handlers.projects import upsert_project
from handlers.router import Router
from store.db import transaction
from store.repositories import archive_repositories, projects_of_repository

router = Router()


@router.on("repository.renamed", "repository.transferred", "repository.edited")
async def on_changed(ctx: Context) -> None:
    """Follow the repository's new name, owner or default branch (project name and URLs stay)."""
    repo = ctx.repository
    if repo is None:
        return
    async with transaction(ctx.sessions) as tx:
        # an archived project stays archived: only the installation brings it back; each app of
        # a monorepo is followed as itself, so no one-app project appears beside them
        for project in [p for p in await projects_of_repository(tx, repo["id"]) if p.archived_at is None]:
            before = project.full_name
            await upsert_project(tx, repo, ctx.installation_id or project.installation_id, project.app)
            if before != repo.get("full_name"):
                ctx.log.info(
                    "project %s now follows %s (was %s)", project.name, repo.get("full_name"), before
                )


@router.on("repository.deleted")
async def on_deleted(ctx: Context) -> None:
    """Archive the project of a deleted repository; its history stays."""
    repo = ctx.repository
    if repo is not None:
        async with transaction(ctx.sessions) as tx:
            await archive_repositories(tx, [repo["id"]])
