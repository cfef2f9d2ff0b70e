"""pull_request: each open pull request gets a preview `pr-<n>` of its head; closing destroys it.

A pull request from a fork never deploys on its own: its environment is marked untrusted
(no secrets) and waits until someone with write access approves the exact head with `/deploy`.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from deployer.config import RepoConfig
from deployer.operations import add_deployment, environment_for
from handlers import jobs
from handlers.ci_gate import gate_for
from handlers.context import Context
from handlers.heads import event_time, is_stale
from handlers.monorepo import every_project, projects_to_deploy, pull_request_changes
from handlers.preview_modes import deploys_on_its_own, why_not
from handlers.project_lookup import ProjectRef, read_config
from handlers.router import EventRouter
from store import environment_names as environments
from store.db import transaction
from store.deployment_requests import hold_if_locked
from store.environments import ever_deployed, follow_pull_request, mark_destroyed, record_head
from store.projects import project_by_id

router = EventRouter()


def from_fork(pull: dict[str, Any]) -> bool:
    """Whether the head lives in another repository (a deleted fork counts as one)."""
    head_repo = (pull.get("head") or {}).get("repo")
    base_repo = (pull.get("base") or {}).get("repo") or {}
    return head_repo is None or head_repo.get("id") != base_repo.get("id")


@router.on(
    "pull_request.opened",
    "pull_request.reopened",
    "pull_request.synchronize",
    "pull_request.ready_for_review",
)
async def on_pull_request(ctx: Context) -> None:
    """Deploy the head into the preview of each app it changes, or record it as waiting for a
    fork approval."""
    config = await read_config(ctx, _repo(ctx))
    for project in await _changed_projects(ctx, config):
        await _deploy_head(ctx, project, config, label_added=False)


def _repo(ctx: Context) -> str:
    return str((ctx.repository or {}).get("full_name", ""))


async def _changed_projects(ctx: Context, config: RepoConfig) -> list[ProjectRef]:
    changes = partial(pull_request_changes, ctx, _repo(ctx), ctx.payload["pull_request"])
    return await projects_to_deploy(ctx, config, changes)


async def _labelled_config(ctx: Context) -> RepoConfig | None:
    """The config when the label this delivery adds or removes is the one
    `previews.when: label:<name>` names; else None."""
    config = await read_config(ctx, _repo(ctx))
    if config.previews.label is None or (ctx.payload.get("label") or {}).get("name") != config.previews.label:
        return None
    return config


@router.on("pull_request.labeled")
async def on_labeled(ctx: Context) -> None:
    """With `previews.when: label:<name>`, adding that label deploys the preview."""
    if (config := await _labelled_config(ctx)) is not None:
        for project in await _changed_projects(ctx, config):
            await _deploy_head(ctx, project, config, label_added=True)


@router.on("pull_request.unlabeled")
async def on_unlabeled(ctx: Context) -> None:
    """With `previews.when: label:<name>`, removing that label destroys the preview."""
    if (config := await _labelled_config(ctx)) is not None:
        for project in await every_project(ctx, config):
            await _destroy_preview(ctx, project, ctx.payload["pull_request"], forget_head=False)


async def _deploy_head(ctx: Context, project: ProjectRef, config: RepoConfig, *, label_added: bool) -> None:
    pull = ctx.payload["pull_request"]
    number, sha, branch = pull["number"], pull["head"]["sha"], pull["head"].get("ref")
    untrusted = from_fork(pull)
    at = event_time(pull.get("updated_at"))
    base = (pull.get("base") or {}).get("ref") or project.default_branch
    checks = await gate_for(ctx, project, config, base, preview=True)
    deployment_id: int | None = None
    held = False
    async with transaction(ctx.sessions) as tx:
        row = await project_by_id(tx, project.id)
        env = await environment_for(tx, row, environments.preview_name(number))
        if is_stale(env.head_at, at):
            ctx.log.info("pull_request %s of #%s is older than %s; ignored", ctx.action, number, env.head_sha)
            return
        record_head(env, sha, at)
        follow_pull_request(env, number, branch, untrusted=untrusted)
        if not config.previews.enabled or (pull.get("draft") and not config.previews.drafts):
            ctx.log.info(
                "#%s: previews off for %s pull requests", number, "draft" if pull.get("draft") else ""
            )
            return
        live = env.state == "active" and env.current_deployment_id is not None
        if not label_added and not deploys_on_its_own(config.previews, pull, live):
            ctx.log.info("#%s not deployed: %s", number, why_not(config.previews))
            return
        if not untrusted or env.approved_sha == sha:
            deployment = await add_deployment(
                tx,
                row,
                env,
                trigger="pull_request",
                actor=(ctx.payload.get("sender") or {}).get("login"),
                delivery_id=ctx.delivery_id,
                commit_sha=sha,
                ref=branch,
                pr_number=number,
                checks=checks,
            )
            deployment_id = deployment.id
            held = await hold_if_locked(tx, deployment)
    if deployment_id is None:
        ctx.log.info("#%s from a fork: %s waits for /deploy approval", number, sha[:7])
        await jobs.refresh_pr_comment(ctx, project.id, number)
        return
    if held:
        await jobs.report_held(ctx, deployment_id)
        return
    await jobs.run_deployment(ctx, deployment_id)


@router.on("pull_request.closed")
async def on_closed(ctx: Context) -> None:
    """Merged or not, every app's preview goes; the destroy job cancels a build still running."""
    for project in await every_project(ctx, await read_config(ctx, _repo(ctx))):
        await _destroy_preview(ctx, project, ctx.payload["pull_request"], forget_head=True)


async def _destroy_preview(
    ctx: Context, project: ProjectRef, pull: dict[str, Any], *, forget_head: bool
) -> None:
    name = environments.preview_name(pull["number"])
    async with transaction(ctx.sessions) as tx:
        row = await project_by_id(tx, project.id)
        env = await environment_for(tx, row, name)
        if forget_head:
            # a synchronize delivered after the close must not deploy the preview again
            record_head(env, None, event_time(pull.get("closed_at") or pull.get("updated_at")))
        if env.state == "destroyed":
            return
        if not env.untrusted and not await ever_deployed(tx, env):
            # nothing ever ran and no comment shows it: no job needed
            mark_destroyed(env)
            return
    await jobs.destroy_environment(ctx, project.id, name)
