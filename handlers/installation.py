"""installation and installation_repositories: keep installations and projects in step."""

from __future__ import annotations

from typing import Any

from deployer.apps import app_names
from handlers.context import Context
from handlers.project_lookup import read_config
from handlers.projects import upsert_project
from handlers.router import EventRouter
from store import installations
from store.activity import record_github_change
from store.db import Tx, transaction
from store.models import Installation
from store.repositories import archive_repositories

router = EventRouter()


async def _installation(tx: Tx, ctx: Context) -> Installation:
    """The delivery's installation row (and its team), created or refreshed from the payload."""
    data = ctx.payload["installation"]
    account = data.get("account") or {}
    return await installations.refreshed_installation(
        tx,
        data["id"],
        login=account.get("login"),
        account_id=account.get("id"),
        account_type=account.get("type"),
    )


async def _apps_of(ctx: Context, repo: dict[str, Any]) -> tuple[str, ...]:
    """The apps of a repository per its `autostack.yml` (installation payloads carry only the
    name): a monorepo gets one project per app and no one-app project beside them."""
    return app_names(await read_config(ctx, repo.get("full_name") or repo["name"]))


def _names(repos: list[dict[str, Any]]) -> list[str]:
    return [repo.get("full_name") or repo.get("name", "") for repo in repos]


async def _log(tx: Tx, ctx: Context, **details: Any) -> None:
    """The team's activity-log entry for this delivery's change to the installation, named
    for the account it is installed on."""
    account = (ctx.payload.get("installation") or {}).get("account") or {}
    target = str(account.get("login") or ctx.installation_id)
    await record_github_change(
        tx, actor=ctx.sender, action=ctx.key, target=target, installation_id=ctx.installation_id, **details
    )


@router.on("installation.created", "installation.new_permissions_accepted", "installation.unsuspend")
async def on_installed(ctx: Context) -> None:
    """Record the installation and a project for each repository it covers."""
    repos = ctx.payload.get("repositories") or []
    apps = [await _apps_of(ctx, repo) for repo in repos]  # GitHub first: no transaction waits on it
    async with transaction(ctx.sessions) as tx:
        installation = await _installation(tx, ctx)
        installations.reinstate(installation, unsuspend=ctx.action == "unsuspend")
        for repo, names in zip(repos, apps, strict=True):
            for app in names:
                await upsert_project(tx, repo, ctx.installation_id, app)
        await _log(tx, ctx, repositories=_names(repos))
    ctx.log.info("installation %s: %d repositories", ctx.action, len(repos))


@router.on("installation.suspend")
async def on_suspended(ctx: Context) -> None:
    """Remember the suspension: nothing deploys for a suspended installation."""
    async with transaction(ctx.sessions) as tx:
        installation = await _installation(tx, ctx)
        installations.suspend(installation)
        await _log(tx, ctx)


@router.on("installation.deleted")
async def on_uninstalled(ctx: Context) -> None:
    """Archive every project of the installation; their history stays."""
    async with transaction(ctx.sessions) as tx:
        installation = await _installation(tx, ctx)
        archived = await installations.uninstall(tx, installation)
        await _log(tx, ctx, archived=[project.name for project in archived])
    ctx.log.info("installation deleted: %d projects archived", len(archived))


@router.on("installation_repositories.added")
async def on_repositories_added(ctx: Context) -> None:
    """A project for each repository the installation now covers (one per app of a monorepo)."""
    repos = ctx.payload.get("repositories_added") or []
    apps = [await _apps_of(ctx, repo) for repo in repos]
    async with transaction(ctx.sessions) as tx:
        await _installation(tx, ctx)
        for repo, names in zip(repos, apps, strict=True):
            for app in names:
                await upsert_project(tx, repo, ctx.installation_id, app)
        await _log(tx, ctx, repositories=_names(repos))


@router.on("installation_repositories.removed")
async def on_repositories_removed(ctx: Context) -> None:
    """Archive the projects of repositories taken out of the installation."""
    removed = ctx.payload.get("repositories_removed") or []
    async with transaction(ctx.sessions) as tx:
        archived = await archive_repositories(tx, [repo["id"] for repo in removed])
        await _log(tx, ctx, repositories=_names(removed), archived=[p.name for p in archived])
