"""Deleted branches: their branch environment goes away (`delete` event or a deleting push)."""

from __future__ import annotations

from handlers import jobs
from handlers.context import Context
from handlers.heads import event_time
from handlers.monorepo import repository_projects
from handlers.project_lookup import ProjectRef
from handlers.router import EventRouter
from store import environment_names as environments
from store.db import transaction
from store.environments import advance_head_time, environment_named

router = EventRouter()


async def destroy_branch(ctx: Context, branch: str) -> None:
    """Destroy the branch's environment of each app, if it has one that is still up."""
    for project in await repository_projects(ctx):
        await _destroy(ctx, project, environments.branch_name(branch))


async def _destroy(ctx: Context, project: ProjectRef, name: str) -> None:
    async with transaction(ctx.sessions) as tx:
        env = await environment_named(tx, project.id, name)
        if env is None or env.state == "destroyed":
            return
        # a push for the branch delayed past its deletion must not bring it back
        advance_head_time(env, event_time((ctx.repository or {}).get("pushed_at")))
    ctx.log.info("branch deleted: destroying %s of %s", name, project.name)
    await jobs.destroy_environment(ctx, project.id, name)


@router.on("delete")
async def on_delete(ctx: Context) -> None:
    """A branch was deleted; tags are not deployed, so their deletion changes nothing."""
    if ctx.payload.get("ref_type") == "branch":
        await destroy_branch(ctx, ctx.payload["ref"])
