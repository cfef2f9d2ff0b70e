"""`/rollback` and `/promote`: put an existing build into an environment again, no rebuild."""

from __future__ import annotations

import re

from deployer.operations import OperationError, promote, rollback
from handlers import jobs
from handlers.commands.spec import Call, Outcome
from store import environment_names as environments
from store import locks
from store.db import reading, transaction
from store.environments import environment_named
from store.releases import environment_of_deployment, live_build_of_commit

_DEPLOYMENT = re.compile(r"^#?([0-9]{1,6})$")
_SHA = re.compile(r"^[0-9a-f]{7,40}$")


async def _by_sha(call: Call, environment: str, prefix: str) -> int | None:
    async with reading(call.ctx.sessions) as tx:
        return await live_build_of_commit(tx, call.project.id, environment, prefix)


async def rollback_command(call: Call) -> Outcome:
    """Return production (or the check run's environment) to an earlier live build."""
    environment = call.environment or environments.PRODUCTION
    chosen: int | None = None
    if call.args:
        wanted = call.args[0].lower()
        if match := _DEPLOYMENT.match(wanted):
            chosen = int(match.group(1))
        elif _SHA.match(wanted):
            chosen = await _by_sha(call, environment, wanted)
            if chosen is None:
                return Outcome(False, f"No live build of `{wanted[:12]}` in {environment} to roll back to.")
        else:
            return Outcome(False, f"`{wanted}` is neither a deployment number nor a commit sha.")
    try:
        deployment_id = await rollback(
            call.ctx.sessions,
            call.project.name,
            environment,
            chosen,
            actor=call.actor,
            delivery_id=call.ctx.delivery_id,
        )
    except OperationError as exc:
        return Outcome(False, f"Cannot roll back: {exc}.")
    message = await _lock_after_rollback(call) if environment == environments.PRODUCTION else None
    await jobs.run_deployment(call.ctx, deployment_id)
    return Outcome(True, message)


async def _lock_after_rollback(call: Call) -> str:
    """Keep the next push from undoing the rollback; a lock someone set already stays as it is."""
    async with transaction(call.ctx.sessions) as tx:
        lock = await locks.lock_unless_locked(
            tx,
            call.project.id,
            environments.PRODUCTION,
            call.actor,
            f"rolled back by @{call.actor}",
            cause=locks.ROLLBACK,
        )
        deploy = " ".join(
            ["/deploy", *([call.project.app] if call.project.app else []), environments.PRODUCTION]
        )
        also = f" (or `{deploy}`)" if lock.cause == locks.ROLLBACK else ""
        return f"🔒 {locks.describe(lock, call.project.app)}{also}."


async def promote_command(call: Call) -> Outcome:
    """Put the preview's live build (or the check run's) into production."""
    async with reading(call.ctx.sessions) as tx:
        if call.deployment_id is not None:
            source_id: int | None = call.deployment_id
            environment = await environment_of_deployment(tx, call.project.id, call.deployment_id)
        else:
            if call.pr_number is None:
                return Outcome(False, "`/promote` works in pull request comments and on check runs.")
            environment = await environment_named(
                tx, call.project.id, environments.preview_name(call.pr_number)
            )
            source_id = environment.current_deployment_id if environment else None
    if environment is None or source_id is None:
        return Outcome(False, "There is no live preview to promote yet; wait until it is ready.")
    if environment.untrusted:
        return Outcome(False, "A fork's build does not go to production; merge the pull request instead.")
    try:
        deployment_id = await promote(
            call.ctx.sessions, source_id, actor=call.actor, delivery_id=call.ctx.delivery_id
        )
    except OperationError as exc:
        return Outcome(False, f"Cannot promote: {exc}.")
    await jobs.run_deployment(call.ctx, deployment_id)
    return Outcome(True)
