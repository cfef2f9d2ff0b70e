"""The workers' scheduled jobs: the outbox sweep, pending custom domains, and the cluster's
idle previews and orphans. Each runs once per interval across replicas (arq's unique cron ids)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from bot.domains.checks import verify_pending
from bot.services import Services
from bot.worker.deliveries import JOB_TIMEOUT
from bot.worker.queue import ArqQueue
from deployer.events import EnvironmentDestroyed
from deployer.expiry import expire_idle_previews
from handlers.jobs import REFRESH_DOMAINS
from store.activity import record_environment_activity
from store.leases import LEASE, expired_delivery_claims
from store.outbox import OutboxSweep

log = logging.getLogger("autostack.worker")
# the worker context's key for how long arq locks a job it started (its in-progress key)
IN_PROGRESS_MS = "in_progress_ms"


async def sweep_outbox(ctx: dict[str, Any]) -> int:
    """Cron job: queue deliveries the relay missed (Redis was down, or lost its data) and hand
    on those whose job's claim expired (its worker died); returns how many were queued."""
    services: Services = ctx["services"]
    queue: ArqQueue = await services.queue()
    sweep: OutboxSweep = ctx["outbox_sweep"]
    page = await sweep.next_page()
    added = await queue.enqueue_missing(page)
    # a worker killed after it took a job but before its claim leaves an unclaimed delivery
    # whose job arq holds for the whole job timeout: resumed like an expired claim
    stalled = await queue.stalled_jobs(
        page,
        locked_ms=ctx.get(IN_PROGRESS_MS, (JOB_TIMEOUT + 10) * 1000),
        older_than_ms=int(LEASE.total_seconds() * 1000),
    )
    expired = await expired_delivery_claims(
        services.sessions, legacy_after=timedelta(seconds=JOB_TIMEOUT + 60)
    )
    resumed = await queue.enqueue_resumes([(d, 0) for d in stalled] + expired)
    if added or resumed:
        log.info("sweeper queued %d deliveries left behind and resumed %d", added, resumed)
    return added + resumed


async def check_domains(ctx: dict[str, Any]) -> int:
    """Cron job: check every pending custom domain's DNS; return how many got verified.

    Verification is written to the database only: each web process routes verified domains
    from there (bot.domains.checks.RouteSync), so it does not matter which worker runs it."""
    services: Services = ctx["services"]
    verified = await verify_pending(services.sessions, ctx["domain_check"])
    if verified:
        # the deploy worker holds the target: it puts the domains on the cluster's Ingress
        queue = await services.queue()
        for project, environment in sorted(set(verified)):
            await queue.enqueue(REFRESH_DOMAINS, project, environment)
    return len(verified)


async def reconcile_cluster(ctx: dict[str, Any]) -> int:
    """Destroy previews idle past their TTL, then orphans (in the cluster, not in the database)."""
    # the kubernetes client loads only where AUTOSTACK_TARGET=kubernetes (see bot.serve)
    from deployer.targets.kubernetes.reconcile import reconcile

    services, runtime = ctx["services"], ctx["deploy"]
    # the closed pull request's path, which also marks the preview's GitHub Deployments inactive
    expired = await expire_idle_previews(services.sessions, runtime.target, runtime.hub, stops=runtime.stops)
    for preview in expired:
        idle = f"idle since {preview.last_activity_at:%Y-%m-%d %H:%M} UTC, longer than previews.ttl"
        await record_environment_activity(
            services.sessions, preview.project, preview.environment, "environment.expired", idle
        )
    reclaimed = await reconcile(services.sessions, runtime.target)
    for orphan in reclaimed:
        reason = "in the cluster but not active in the database"
        project_id = await record_environment_activity(
            services.sessions, orphan.project, orphan.environment, "environment.reclaimed", reason
        )
        if project_id is not None:
            # GitHub still shows the environment's Deployments as active until told otherwise
            await runtime.hub.emit(EnvironmentDestroyed(project_id, orphan.environment))
    return len(expired) + len(reclaimed)
