"""The two arq workers: deliveries (with the sweeper, domain checks, reconciler and retention
crons) and deploys (with the deployment sweep and, on a cluster, its reconciler)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from arq import cron, func
from arq.cron import CronJob
from arq.worker import Worker

from bot.archive.retention import retention_cron
from bot.domains.checks import DnsCheck
from bot.services import Services
from bot.worker.crons import IN_PROGRESS_MS, check_domains, reconcile_cluster, sweep_outbox
from bot.worker.deliveries import ARQ_MAX_TRIES, DEPLOY_TIMEOUT, JOB_TIMEOUT, SWEEP_SECONDS, handle_delivery
from bot.worker.deploy_jobs import DEPLOY_FUNCTIONS, DeployRuntime, recover, sweep_deployments
from bot.worker.queue import DEPLOY_QUEUE, HANDLE_DELIVERY, redis_settings
from bot.worker.redeliver import reconcile_deliveries
from bot.worker.retries import DEPLOY_TRIES
from store.outbox import OutboxSweep

# how long a cron's result stays in Redis, refusing the tick to every other replica
CRON_KEEP = 3600


def once_per_tick(coroutine: Any, **when: Any) -> CronJob:
    """arq's unique cron, run once per tick across replicas. arq refuses a tick's job id only
    while its job or result is in Redis and keeps no cron result by default, so a replica whose
    loop lagged would queue the tick again after another finished it; the result is kept."""
    return cron(coroutine, unique=True, keep_result=CRON_KEEP, **when)


def make_worker(
    services: Services,
    *,
    burst: bool = False,
    handle_signals: bool = True,
    job_timeout: int = JOB_TIMEOUT,
    poll_delay: float = 0.1,
    nameservers: tuple[str, int] | None = None,
) -> Worker:
    """An arq worker for deliveries (the outbox sweeper and the domain check), with `services` in
    its context; `nameservers` is a test's DNS server (None: the system resolver)."""

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["services"] = services
        ctx["domain_check"] = DnsCheck(services.settings.apps_domain, nameservers)
        # one cursor for the worker's life, so each run goes on where the last page ended
        ctx["outbox_sweep"] = OutboxSweep(services.sessions, received_for=timedelta(seconds=10))
        # deliveries stranded while no worker ran are queued before new work starts
        await sweep_outbox(ctx)

    worker = Worker(
        functions=[func(handle_delivery, name=HANDLE_DELIVERY)],
        # unique: a scheduled run is queued under one job id, so it runs once across all workers
        cron_jobs=[
            # every 10 s: a dead worker's claim (20 s) is handed on within 30 s
            once_per_tick(sweep_outbox, second=SWEEP_SECONDS, run_at_startup=False),
            # every minute, off the sweeper's seconds so the two do not start together
            once_per_tick(check_domains, second=15, run_at_startup=False),
            # each minute and at start; the reconciler's database lease keeps it to one run per
            # AUTOSTACK_REDELIVER_INTERVAL across workers. Burst workers (tests, one-off drains) skip it.
            *(
                []
                if burst
                else [once_per_tick(reconcile_deliveries, second=45, run_at_startup=True, timeout=900)]
            ),
            once_per_tick(retention_cron, minute=41, second=0, run_at_startup=False),
        ],
        redis_settings=redis_settings(services.redis_url),
        on_startup=on_startup,
        burst=burst,
        handle_signals=handle_signals,
        job_timeout=job_timeout,
        max_tries=ARQ_MAX_TRIES,
        poll_delay=poll_delay,
        keep_result=3600,
    )
    worker.ctx[IN_PROGRESS_MS] = int(worker.in_progress_timeout_s * 1000)
    return worker


def make_deploy_worker(
    services: Services,
    runtime: DeployRuntime,
    *,
    burst: bool = False,
    handle_signals: bool = True,
    poll_delay: float = 0.5,
    max_jobs: int = 4,
) -> Worker:
    """An arq worker for the deploy queue, holding the target the jobs deploy to."""

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["services"] = services
        ctx["deploy"] = runtime
        await recover(services, runtime)

    return Worker(
        functions=[func(job, name=name) for name, job in DEPLOY_FUNCTIONS.items()],
        queue_name=DEPLOY_QUEUE,
        redis_settings=redis_settings(services.redis_url),
        on_startup=on_startup,
        burst=burst,
        handle_signals=handle_signals,
        job_timeout=DEPLOY_TIMEOUT,
        # a deployment is not retried blindly: only a temporary error queues it again (arq Retry,
        # bot.worker.retries); anything else ends it failed with its reason, and people redeploy
        max_tries=DEPLOY_TRIES,
        max_jobs=max_jobs,
        poll_delay=poll_delay,
        keep_result=3600,
        ctx={},
        # unique: one run per interval across however many deploy workers there are
        cron_jobs=[
            # off the delivery sweeper's seconds; an expired lease (20 s) is failed within 30 s
            once_per_tick(sweep_deployments, second=set(range(5, 60, 10)), run_at_startup=False),
            *(
                [once_per_tick(reconcile_cluster, minute=set(range(0, 60, 10)), run_at_startup=False)]
                if services.settings.cluster is not None
                else []
            ),
        ],
    )
