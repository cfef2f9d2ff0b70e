"""`/deploy`, `/redeploy` and `/destroy`: fresh builds of a commit, and tearing a preview down."""

from __future__ import annotations

from deployer.operations import add_deployment, environment_for
from handlers import jobs
from handlers.commands.spec import Call, Outcome
from handlers.permissions import Requirement
from store import environment_names as environments
from store import locks
from store.db import Tx, reading, transaction
from store.deployment_requests import redeployable
from store.environments import approve, environment_named
from store.models import Environment
from store.projects import project_by_id


def deploy_requirement(args: tuple[str, ...]) -> Requirement:
    """Previews need write access; any other environment is shared and needs production rights."""
    target = args[0].lower() if args else "preview"
    return "write" if target == "preview" or environments.preview_number(target) else "production"


async def _preview(tx: Tx, call: Call) -> Environment | None:
    if call.pr_number is None:
        return None
    project = await project_by_id(tx, call.project.id)
    return await environment_for(tx, project, environments.preview_name(call.pr_number))


def _unseen(call: Call) -> Outcome:
    return Outcome(
        False,
        f"AutoStack has not seen a commit of #{call.pr_number} yet; push a commit "
        "(or close and reopen the pull request) and try again.",
    )


async def _queue(tx: Tx, call: Call, env: Environment, sha: str, ref: str | None) -> int:
    project = await project_by_id(tx, call.project.id)
    deployment = await add_deployment(
        tx,
        project,
        env,
        trigger="command",
        actor=call.actor,
        delivery_id=call.ctx.delivery_id,
        commit_sha=sha,
        ref=ref,
        pr_number=env.pr_number,
    )
    return deployment.id


async def deploy(call: Call) -> Outcome:
    """Build the pull request's head into its preview (approving it for a fork), or elsewhere."""
    target = call.args[0].lower() if call.args else "preview"
    if call.pr_number is None:
        return Outcome(False, "`/deploy` works in pull request comments.")
    if not call.pr_open:
        return Outcome(False, f"#{call.pr_number} is closed; reopen it to deploy it.")
    own_preview = environments.preview_name(call.pr_number)
    name = own_preview if target == "preview" else target
    if environments.preview_number(name) is not None and name != own_preview:
        return Outcome(False, f"From #{call.pr_number} only its own preview `{own_preview}` can be deployed.")
    if not environments.is_valid(name):
        return Outcome(False, f"`{target}` is not an environment; use preview, production or branch-<name>.")
    async with transaction(call.ctx.sessions) as tx:
        preview = await _preview(tx, call)
        assert preview is not None
        if preview.head_sha is None:
            return _unseen(call)
        sha, ref = preview.head_sha, preview.branch
        if preview.untrusted:
            if name != own_preview:
                return Outcome(False, "A fork's code reaches shared environments by merging, not `/deploy`.")
            if call.requested_at and preview.head_at and call.requested_at < preview.head_at:
                return Outcome(
                    False,
                    f"#{call.pr_number} moved to `{sha[:7]}` after your comment; "
                    "review the new commits and comment `/deploy` again.",
                )
            # the approval is for this exact commit: a later push needs a new one
            approve(preview, sha, call.actor)
        project = await project_by_id(tx, call.project.id)
        env = preview if name == own_preview else await environment_for(tx, project, name)
        deployment_id = await _queue(tx, call, env, sha, ref)
        # a rollback's lock lasts until someone deploys on purpose; a `/lock` outlives this deploy
        await locks.release_rollback_lock(tx, project.id, name)
    await jobs.run_deployment(call.ctx, deployment_id)
    call.ctx.log.info(
        "%s deploys %s to %s", call.actor, sha[:7], name, extra={"deployment_id": deployment_id}
    )
    return Outcome(True)


async def redeploy(call: Call) -> Outcome:
    """Build the same commit again in the same environment (after an env var change, say)."""
    async with transaction(call.ctx.sessions) as tx:
        if call.deployment_id is not None:
            found = await redeployable(tx, call.project.id, call.deployment_id)
            if found is None:
                return Outcome(False, f"Deployment {call.deployment_id} cannot be redeployed.")
            sha, ref, env = found
        else:
            preview = await _preview(tx, call)
            if preview is None:
                return Outcome(False, "`/redeploy` works in pull request comments and on check runs.")
            if preview.head_sha is None:
                return _unseen(call)
            sha, ref, env = preview.head_sha, preview.branch, preview
        if env.untrusted and env.approved_sha != sha:
            return Outcome(False, f"`{sha[:7]}` (from a fork) is not approved; comment `/deploy` first.")
        deployment_id = await _queue(tx, call, env, sha, ref)
    await jobs.run_deployment(call.ctx, deployment_id)
    return Outcome(True)


async def destroy(call: Call) -> Outcome:
    """Tear the pull request's preview down; the next push or `/deploy` brings it back."""
    if call.pr_number is None:
        return Outcome(False, "`/destroy` works in pull request comments.")
    name = environments.preview_name(call.pr_number)
    async with reading(call.ctx.sessions) as tx:
        env = await environment_named(tx, call.project.id, name)
    if env is None or env.state == "destroyed":
        return Outcome(False, f"`{name}` is not running.")
    await jobs.destroy_environment(call.ctx, call.project.id, name)
    return Outcome(True)
