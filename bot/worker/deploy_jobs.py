"""arq jobs on the deploy queue: run a deployment, destroy an environment, refresh a comment.

They run where the target lives: on the local target that is the `serve` process (the
router and the apps' processes are its children); on kubernetes any `autostack worker`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from arq import Retry
from arq.typing import WorkerCoroutine

from bot.logs import deployment_id_var
from bot.reporter.hub import ReporterHub
from bot.services import Services
from bot.worker.check_jobs import release_deployment_job, report_checks_job
from bot.worker.merge_queue import report_merge_group_job
from bot.worker.retries import DEPLOY_TRIES, retry_delay
from deployer.envvars import env_provider
from deployer.events import Finished, Queued
from deployer.operations import OperationError, destroy_environment
from deployer.pipeline import recover_interrupted, run_deployment
from deployer.source import TarballWriter
from deployer.stops import IN_PROCESS, StopSignals
from deployer.targets.base import Target, TargetError
from deployer.targets.local.router import Router
from handlers.jobs import (
    DESTROY_ENVIRONMENT,
    REFRESH_DOMAINS,
    REFRESH_PR_COMMENT,
    RELEASE_DEPLOYMENT,
    REPORT_CHECKS,
    REPORT_DEPLOYMENT,
    REPORT_HELD,
    REPORT_MERGE_GROUP,
    RUN_DEPLOYMENT,
    release_job_id,
)
from store.check_gates import passed_but_parked
from store.environment_names import preview_name
from store.leases import queued_deployments
from store.models import Deployment, Project
from store.worker_reads import deployment_and_project, deployment_by_id, project_by_id

log = logging.getLogger("autostack.deploy")

MAX_TARBALL_BYTES = 1024 * 1024 * 1024
# a deployment queued this long without a job in Redis lost it (the enqueue is right after the
# row's commit, so a shorter wait would only race it)
QUEUED_GRACE = timedelta(seconds=5)


@dataclass
class DeployRuntime:
    """What deploy jobs need beyond the shared services: the target and the reporting sink."""

    target: Target
    work_dir: Path
    hub: ReporterHub
    # the built-in router of the local target; a cluster routes with its Ingress instead
    router: Router | None = None
    # how a cancel or a supersede reaches the deployment's run (Services.stops in `serve`)
    stops: StopSignals = IN_PROCESS
    # set when the worker's drain ran out of time (bot.worker.drain): a deploy job cancelled
    # now leaves its deployment to its lease instead of failing it
    cut_off: asyncio.Event = field(default_factory=asyncio.Event)


def _runtime(ctx: dict[str, Any]) -> tuple[Services, DeployRuntime]:
    return ctx["services"], ctx["deploy"]


async def _fetcher(services: Services, deployment: Deployment, project: Project) -> TarballWriter | None:
    if deployment.source is not None or not deployment.commit_sha:
        return None
    if project.full_name is None or project.installation_id is None:
        return None
    github = services.apps.installation(project.installation_id)
    repo, sha = project.full_name, deployment.commit_sha

    async def fetch(dest: Path) -> None:
        await github.download_tarball(repo, sha, dest, max_bytes=MAX_TARBALL_BYTES)

    return fetch


async def run_deployment_job(ctx: dict[str, Any], deployment_id: int) -> str | None:
    """arq job: build and release one queued deployment, reporting to GitHub as it goes."""
    services, runtime = _runtime(ctx)
    token = deployment_id_var.set(deployment_id)
    try:
        found = await deployment_and_project(services.sessions, deployment_id)
        if found is None:
            log.warning("deployment %s does not exist", deployment_id)
            return None
        deployment, project = found
        await runtime.hub.emit(Queued(deployment_id))
        job_try = int(ctx.get("job_try") or 1)
        state = await run_deployment(
            services.sessions,
            deployment_id,
            runtime.hub,
            runtime.target,
            work_dir=runtime.work_dir,
            fetch=await _fetcher(services, deployment, project),
            env_for=env_provider(services.sessions, services.keyring),
            final_try=job_try >= DEPLOY_TRIES,
            stops=runtime.stops,
            left_to_lease=runtime.cut_off.is_set,
        )
        if state == "queued":  # a temporary error: the same job runs it again after the backoff
            raise Retry(defer=retry_delay(job_try))
        return state
    finally:
        deployment_id_var.reset(token)


async def report_held_job(ctx: dict[str, Any], deployment_id: int) -> str | None:
    """arq job: report a deployment a locked environment held back, with the lock as its reason."""
    services, runtime = _runtime(ctx)
    row = await deployment_by_id(services.sessions, deployment_id)
    if row is None or row.state != "cancelled":
        return None
    await runtime.hub.emit(Queued(deployment_id))
    await runtime.hub.emit(Finished(deployment_id, "cancelled", row.state, row.reason))
    return row.state


async def destroy_environment_job(ctx: dict[str, Any], project_id: int, environment: str) -> bool:
    """arq job: stop an environment's app, cancel its deployments, mark GitHub inactive."""
    services, runtime = _runtime(ctx)
    project = await project_by_id(services.sessions, project_id)
    if project is None:
        return False
    try:
        await destroy_environment(
            services.sessions, runtime.target, runtime.hub, project.name, environment, stops=runtime.stops
        )
    except OperationError as exc:
        log.info("nothing to destroy: %s", exc)
        return False
    return True


async def refresh_pr_comment_job(ctx: dict[str, Any], project_id: int, pr_number: int) -> None:
    """arq job: re-render a pull request's sticky comment (e.g. a fork preview awaiting approval)."""
    _, runtime = _runtime(ctx)
    await runtime.hub.refresh_comment(project_id, preview_name(pr_number))


async def refresh_domains_job(ctx: dict[str, Any], project: str, environment: str) -> bool:
    """arq job: route an environment's verified custom domains now (one was verified or removed)."""
    _, runtime = _runtime(ctx)
    try:
        await runtime.target.refresh_domains(project, environment)
    except TargetError as exc:
        log.warning("routing the custom domains of %s/%s failed: %s", project, environment, exc)
        return False
    return True


async def report_deployment_job(ctx: dict[str, Any], deployment_id: int) -> None:
    """arq job: after a rate limit, send GitHub the deployment's latest state (what differs)."""
    _, runtime = _runtime(ctx)
    await runtime.hub.catch_up(deployment_id)


async def recover(services: Services, runtime: DeployRuntime) -> None:
    """Fail deployments a dead process left in progress (their lease expired), and report them."""
    failed = await recover_interrupted(services.sessions, runtime.hub)
    if failed:
        log.warning("marked %d interrupted deployments failed: %s", len(failed), failed)


async def sweep_deployments(ctx: dict[str, Any]) -> int:
    """Cron job: fail deployments whose process died, and queue again the queued ones whose job
    is gone (Redis lost it, or it failed before claiming); returns how many were queued."""
    services, runtime = _runtime(ctx)
    await recover(services, runtime)
    waiting = await queued_deployments(services.sessions, older_than=QUEUED_GRACE)
    queue = await services.queue()
    requeued = await queue.requeue_deployments(waiting)
    # a release whose job Redis lost; one still queued or running keeps its job id
    for deployment_id in await passed_but_parked(services.sessions):
        requeued += await queue.enqueue(
            RELEASE_DEPLOYMENT, deployment_id, job_id=release_job_id(deployment_id)
        )
    if requeued:
        log.warning("queued %d deployments again whose job was lost", requeued)
    return requeued


# keyed by handlers.jobs' names: every job declared there has its function here
DEPLOY_FUNCTIONS: dict[str, WorkerCoroutine] = {
    RUN_DEPLOYMENT: run_deployment_job,
    REPORT_HELD: report_held_job,
    DESTROY_ENVIRONMENT: destroy_environment_job,
    REFRESH_PR_COMMENT: refresh_pr_comment_job,
    REFRESH_DOMAINS: refresh_domains_job,
    REPORT_MERGE_GROUP: report_merge_group_job,
    REPORT_DEPLOYMENT: report_deployment_job,
    RELEASE_DEPLOYMENT: release_deployment_job,
    REPORT_CHECKS: report_checks_job,
}
