"""push: the default branch goes to production, configured branches to their environment."""

from __future__ import annotations

import fnmatch
import re
from functools import partial
from typing import Any

from deployer.config import RepoConfig
from deployer.operations import add_deployment, environment_for
from handlers import jobs
from handlers.ci_gate import gate_for
from handlers.context import Context
from handlers.delete import destroy_branch
from handlers.heads import event_time, is_stale
from handlers.monorepo import projects_to_deploy, push_changes, retire_removed_apps
from handlers.project_lookup import ProjectRef, valid_config
from handlers.router import EventRouter
from store import environment_names as environments
from store.db import transaction
from store.deployment_requests import hold_if_locked
from store.environments import follow_branch, record_head
from store.projects import project_by_id

router = EventRouter()
SKIP = re.compile(r"\[(skip deploy|skip ci)\]", re.IGNORECASE)


def wants_skip(message: str) -> bool:
    """A head commit saying `[skip deploy]` or `[skip ci]` is not deployed."""
    return bool(SKIP.search(message))


def listed(branch: str, patterns: list[str]) -> bool:
    """Whether `autostack.yml`'s `branches` names the branch (exactly or by a glob like `release/*`)."""
    return any(fnmatch.fnmatchcase(branch, pattern) for pattern in patterns)


@router.on("push")
async def on_push(ctx: Context) -> None:
    """Deploy the pushed head (force pushes included) or destroy a deleted branch's environment."""
    payload = ctx.payload
    branch = environments.branch_of(payload.get("ref", ""))
    if branch is None:
        return  # tags and other refs are not deployed
    if payload.get("deleted"):
        await destroy_branch(ctx, branch)
        return
    head = payload.get("head_commit") or {}
    sha = payload.get("after") or head.get("id")
    if not sha or wants_skip(head.get("message") or ""):
        ctx.log.info("push to %s not deployed: %s", branch, "skip marker" if sha else "no head commit")
        return
    repo = (ctx.repository or {}).get("full_name", "")
    default_branch = (ctx.repository or {}).get("default_branch")
    found = await valid_config(ctx, repo, default_branch)
    if found is not None:
        await retire_removed_apps(ctx, found, sha)
    config = found if found is not None else RepoConfig()
    if branch != default_branch and not listed(branch, list(config.branches)):
        return
    changes = partial(push_changes, ctx, repo, payload.get("before"), sha)
    for project in await projects_to_deploy(ctx, config, changes):
        await _deploy(ctx, project, config, branch, sha, head)


async def _deploy(
    ctx: Context, project: ProjectRef, config: RepoConfig, branch: str, sha: str, head: dict[str, Any]
) -> None:
    payload = ctx.payload
    name = environments.PRODUCTION if branch == project.default_branch else environments.branch_name(branch)
    checks = await gate_for(ctx, project, config, branch)
    pushed_at = event_time((ctx.repository or {}).get("pushed_at"))
    async with transaction(ctx.sessions) as tx:
        row = await project_by_id(tx, project.id)
        env = await environment_for(tx, row, name)
        if is_stale(env.head_at, pushed_at):
            ctx.log.info("push of %s to %s is older than %s; not deployed", sha[:7], branch, env.head_sha)
            return
        record_head(env, sha, pushed_at)
        if name != environments.PRODUCTION:
            follow_branch(env, branch)
        sender = payload.get("sender") or {}
        deployment = await add_deployment(
            tx,
            row,
            env,
            trigger="push",
            actor=sender.get("login") or (payload.get("pusher") or {}).get("name"),
            delivery_id=ctx.delivery_id,
            commit_sha=sha,
            commit_message=head.get("message"),
            commit_time=event_time(head.get("timestamp")),
            ref=branch,
            checks=checks,
        )
        deployment_id = deployment.id
        held = await hold_if_locked(tx, deployment)
    if held:
        ctx.log.info("push of %s to %s recorded; %s is locked", sha[:7], branch, name)
        await jobs.report_held(ctx, deployment_id)
        return
    ctx.log.info("push of %s to %s → %s", sha[:7], branch, name, extra={"deployment_id": deployment_id})
    await jobs.run_deployment(ctx, deployment_id)
