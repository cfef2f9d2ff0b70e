"""Deploy-queue jobs of `deploy.after: checks`: release a deployment whose checks passed, and
report one that went from waiting to blocked by a check (or back)."""

from __future__ import annotations

from typing import Any

from bot.logs import deployment_id_var
from deployer.envvars import env_provider
from deployer.events import Held
from deployer.pipeline import release_deployment
from store.check_gates import HELD
from store.worker_reads import deployment_by_id


async def release_deployment_job(ctx: dict[str, Any], deployment_id: int) -> str | None:
    """arq job: start, health-check and switch to the build a deployment made before waiting."""
    services, runtime = ctx["services"], ctx["deploy"]
    token = deployment_id_var.set(deployment_id)
    try:
        return await release_deployment(
            services.sessions,
            deployment_id,
            runtime.hub,
            runtime.target,
            work_dir=runtime.work_dir,
            env_for=env_provider(services.sessions, services.keyring),
            stops=runtime.stops,
            left_to_lease=runtime.cut_off.is_set,
        )
    finally:
        deployment_id_var.reset(token)


async def report_checks_job(ctx: dict[str, Any], deployment_id: int) -> str | None:
    """arq job: show a parked deployment's state and why (check run, status, sticky comment)."""
    services, runtime = ctx["services"], ctx["deploy"]
    row = await deployment_by_id(services.sessions, deployment_id)
    if row is None or row.state not in HELD:
        return None
    await runtime.hub.emit(Held(deployment_id, row.state, row.reason or ""))
    return str(row.state)
