"""installation and installation_repositories: keep installations and projects in step."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from deployer.apps import app_names
from handlers.context import Context
from handlers.project_lookup import read_config
from handlers.projects import archive_projects, upsert_project
from handlers.router import EventRouter
from store.models import Installation, Project, utcnow
from store.upserts import get_or_create_installation, get_or_create_team

router = EventRouter()


async def _installation(session: AsyncSession, ctx: Context) -> Installation:
    """The delivery's installation row (and its team), created or refreshed from the payload."""
    data = ctx.payload["installation"]
    account = data.get("account") or {}
    row = await get_or_create_installation(session, data["id"], account.get("login", ""))
    row.account_login = account.get("login", row.account_login)
    row.account_id = account.get("id", row.account_id)
    row.account_type = account.get("type", row.account_type)
    await get_or_create_team(session, row.id, row.account_login)
    return row


async def _apps_of(ctx: Context, repo: dict[str, Any]) -> tuple[str, ...]:
    """The apps of a repository per its `autostack.yml` (installation payloads carry only the
    name): a monorepo gets one project per app and no one-app project beside them."""
    return app_names(await read_config(ctx, repo.get("full_name") or repo["name"]))


@router.on("installation.created", "installation.new_permissions_accepted", "installation.unsuspend")
async def on_installed(ctx: Context) -> None:
    """Record the installation and a project for each repository it covers."""
    repos = ctx.payload.get("repositories") or []
    apps = [await _apps_of(ctx, repo) for repo in repos]  # GitHub first: no transaction waits on it
    async with ctx.sessions.begin() as session:
        installation = await _installation(session, ctx)
        installation.deleted_at = None
        if ctx.action == "unsuspend":
            installation.suspended_at = None
        for repo, names in zip(repos, apps, strict=True):
            for app in names:
                await upsert_project(session, repo, ctx.installation_id, app)
    ctx.log.info("installation %s: %d repositories", ctx.action, len(repos))


@router.on("installation.suspend")
async def on_suspended(ctx: Context) -> None:
    """Remember the suspension: nothing deploys for a suspended installation."""
    async with ctx.sessions.begin() as session:
        installation = await _installation(session, ctx)
        installation.suspended_at = utcnow()


@router.on("installation.deleted")
async def on_uninstalled(ctx: Context) -> None:
    """Archive every project of the installation; their history stays."""
    async with ctx.sessions.begin() as session:
        installation = await _installation(session, ctx)
        installation.deleted_at = utcnow()
        repo_ids = (
            await session.scalars(
                select(Project.github_repo_id).where(Project.installation_id == installation.id)
            )
        ).all()
        archived = await archive_projects(session, [r for r in repo_ids if r is not None])
    ctx.log.info("installation deleted: %d projects archived", archived)


@router.on("installation_repositories.added")
async def on_repositories_added(ctx: Context) -> None:
    """A project for each repository the installation now covers (one per app of a monorepo)."""
    repos = ctx.payload.get("repositories_added") or []
    apps = [await _apps_of(ctx, repo) for repo in repos]
    async with ctx.sessions.begin() as session:
        await _installation(session, ctx)
        for repo, names in zip(repos, apps, strict=True):
            for app in names:
                await upsert_project(session, repo, ctx.installation_id, app)


@router.on("installation_repositories.removed")
async def on_repositories_removed(ctx: Context) -> None:
    """Archive the projects of repositories taken out of the installation."""
    removed = [repo["id"] for repo in ctx.payload.get("repositories_removed") or []]
    async with ctx.sessions.begin() as session:
        await archive_projects(session, removed)
