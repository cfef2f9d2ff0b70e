"""merge_group: a merge queue asks for checks on its group's commit; AutoStack's pass at once.

The group targets a branch; the environment that branch deploys to names the check, as
on the commits of that branch (production for the default branch). A monorepo reports one
check per app, whatever the group changes: each app's check may be the required one.
"""

from __future__ import annotations

from handlers import jobs
from handlers.context import Context
from handlers.monorepo import every_project
from handlers.project_lookup import read_config
from handlers.push import listed
from handlers.router import EventRouter
from store import environment_names as environments

router = EventRouter()


@router.on("merge_group.checks_requested")
async def on_checks_requested(ctx: Context) -> None:
    """Report `AutoStack / <env>` (`AutoStack / <app>/<env>` per app) as passed on the group's
    head commit (a pass-through)."""
    group = ctx.payload["merge_group"]
    head_sha, base = group.get("head_sha"), environments.branch_of(group.get("base_ref") or "")
    repo = ctx.repository or {}
    if not head_sha or base is None:
        return
    config = await read_config(ctx, str(repo.get("full_name", "")))
    if base == repo.get("default_branch"):
        name = environments.PRODUCTION
    elif listed(base, list(config.branches)):
        name = environments.branch_name(base)
    else:
        ctx.log.info("merge group into %s: the branch deploys nowhere; no check to report", base)
        return
    for project in await every_project(ctx, config):
        await jobs.report_merge_group(ctx, project.id, name, head_sha)
