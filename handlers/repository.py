"""repository: a renamed, transferred or re-defaulted repository keeps its project."""

from __future__ import annotations

from handlers.context import Context
from handlers.projects import upsert_project
from handlers.router import EventRouter
from store.activity import record_github_change
from store.db import transaction
from store.repositories import archive_repositories, projects_of_repository

router = EventRouter()


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
            before = (project.full_name, project.default_branch)
            await upsert_project(tx, repo, ctx.installation_id or project.installation_id, project.app)
            after = (project.full_name, project.default_branch)
            if before[0] != after[0]:
                ctx.log.info("project %s now follows %s (was %s)", project.name, after[0], before[0])
            if before != after:
                await record_github_change(
                    tx,
                    actor=ctx.sender,
                    action=ctx.key,
                    target=project.name,
                    project_id=project.id,
                    repository=after[0],
                    was=before[0],
                    default_branch=after[1],
                )


@router.on("repository.deleted")
async def on_deleted(ctx: Context) -> None:
    """Archive the project of a deleted repository; its history stays."""
    repo = ctx.repository
    if repo is not None:
        async with transaction(ctx.sessions) as tx:
            for project in await archive_repositories(tx, [repo["id"]]):
                await record_github_change(
                    tx, actor=ctx.sender, action=ctx.key, target=project.name, project_id=project.id
                )
