"""Monorepos: the projects a push or pull request deploys, one per app whose paths changed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from deployer.apps import DEFAULT_APP, ChangedFiles, app_names, choose_apps
from deployer.config import RepoConfig
from handlers.context import Context
from handlers.project_lookup import ProjectRef, project_for, read_config
from store import repo_apps

# GitHub's own caps: a pull request's files list stops at 3000, a comparison's at 300
PULL_FILES_LIMIT = 3000
COMPARE_FILES_LIMIT = 300
NO_COMMIT = "0" * 40  # `before` of a push that created the branch


async def pull_request_changes(ctx: Context, repo: str, pull: dict[str, Any]) -> ChangedFiles:
    """What the pull request changes (base to head), or why the list is incomplete."""
    number, counted = pull["number"], pull.get("changed_files")
    if isinstance(counted, int) and counted > PULL_FILES_LIMIT:
        return _incomplete(f"#{number} changes {counted} files; GitHub lists at most {PULL_FILES_LIMIT}")
    listed = await ctx.github.list_pull_request_files(repo, number) if ctx.github is not None else None
    if listed is None:
        return _incomplete(f"the files of #{number} could not be listed")
    if len(listed) >= PULL_FILES_LIMIT:
        return _incomplete(f"#{number} changes {PULL_FILES_LIMIT} files or more; GitHub lists no more")
    return ChangedFiles(tuple(listed))


async def push_changes(ctx: Context, repo: str, before: str | None, after: str) -> ChangedFiles:
    """What a push changed (its `before...after` comparison), or why the list is incomplete."""
    if not before or before == NO_COMMIT:
        return _incomplete("the push created the branch, so there is no earlier commit to compare")
    listed = await ctx.github.compare_files(repo, before, after) if ctx.github is not None else None
    if listed is None:
        return _incomplete(f"GitHub cannot compare {before[:7]}...{after[:7]} (a force push?)")
    if len(listed) >= COMPARE_FILES_LIMIT:
        return _incomplete(f"the push changes {COMPARE_FILES_LIMIT} files or more; GitHub lists no more")
    return ChangedFiles(tuple(listed))


def _incomplete(why: str) -> ChangedFiles:
    return ChangedFiles((), complete=False, why=f"{why}: every app deploys")


async def projects_to_deploy(
    ctx: Context, config: RepoConfig, changes: Callable[[], Awaitable[ChangedFiles]]
) -> list[ProjectRef]:
    """The projects to deploy: the repository's one project, or (with `apps:`) the project of
    each app whose paths `changes` touches. Every app's project is made, so that the PR
    comment can list the skipped ones too; `changes` is only asked for with `apps:`."""
    if not config.apps:
        project = await project_for(ctx, DEFAULT_APP)
        return [project] if project is not None else []
    choices = choose_apps(config, await changes())
    chosen: list[ProjectRef] = []
    for choice in choices:
        project = await project_for(ctx, choice.app)
        if project is None:
            continue
        ctx.log.info("app %s %s: %s", choice.app, "deploys" if choice.deploy else "skipped", choice.reason)
        if choice.deploy:
            chosen.append(project)
    return chosen


async def every_project(ctx: Context, config: RepoConfig) -> list[ProjectRef]:
    """Every project of the repository: one per app with `apps:` (closing a PR destroys them all)."""
    return await app_projects(ctx, app_names(config))


async def app_projects(ctx: Context, apps: tuple[str, ...]) -> list[ProjectRef]:
    """The live projects of these apps of the delivery's repository, made on first sight."""
    found = [await project_for(ctx, app) for app in apps]
    return [project for project in found if project is not None]


async def repository_projects(ctx: Context) -> list[ProjectRef]:
    """The projects of the delivery's repository as its `autostack.yml` has them: one per app
    of `apps:` (never the one-app project of a monorepo), else the repository's only one."""
    repo = str((ctx.repository or {}).get("full_name", ""))
    return await every_project(ctx, await read_config(ctx, repo))


async def retire_removed_apps(ctx: Context, config: RepoConfig, sha: str) -> None:
    """Archive the projects of apps `config` (read at `sha`) no longer lists, and a monorepo's
    one-app project; bring back those it lists again. `config` must be the file as read, never
    a fallback."""
    repo_id = (ctx.repository or {}).get("id")
    if repo_id is None:
        return
    restored, archived = await repo_apps.follow_listed_apps(
        ctx.sessions, repo_id, app_names(config), actor=ctx.sender, commit=sha
    )
    for app in restored:
        ctx.log.info("app %s is listed again in autostack.yml: its project is restored", app or "(one-app)")
    for app in archived:
        ctx.log.info("app %s is no longer in autostack.yml: its project is archived", app or "(one-app)")
