"""The arq worker: turns queued deliveries into handler runs, sweeps the outbox, and checks
pending custom domains once a minute.

`handle_delivery` is idempotent on the delivery's stored state, so a job that runs twice
(a worker killed mid-job, a sweep racing the relay) has one effect.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

import orjson
from arq import Retry, cron, func
from arq.worker import Worker
from sqlalchemy import select

from bot.deploy_jobs import DEPLOY_FUNCTIONS, DeployRuntime, recover
from bot.github.webhook_models import typed_event
from bot.logs import delivery_id_var
from bot.queue import DEPLOY_QUEUE, HANDLE_DELIVERY, JobQueue, redis_settings
from bot.redeliver import reconcile_deliveries
from bot.relay import OutboxSweep
from bot.services import Services
from bot.web.domain_checks import DnsCheck, verify_pending
from deployer.events import EnvironmentDestroyed
from deployer.expiry import expire_idle_previews
from handlers.context import Context, HandlerSettings
from handlers.router import DispatchResult, dispatch
from store.activity import record_activity
from store.models import Delivery, Project, utcnow

log = logging.getLogger("autostack.worker")

MAX_TRIES = 8
JOB_TIMEOUT = 600
DEPLOY_TIMEOUT = 3600
TERMINAL = ("done", "ignored", "failed")


def retry_delay(attempt: int) -> float:
    """Exponential backoff for transient failures: 2 s, 4 s, 8 s … capped at 5 minutes."""
    return float(min(300, 2**attempt))


async def _claim(services: Services, delivery_id: str) -> Delivery | None:
    async with services.sessions.begin() as session:
        query = select(Delivery).where(Delivery.delivery_id == delivery_id)
        if services.engine.dialect.name == "postgresql":
            query = query.with_for_update()
        row = await session.scalar(query)
        if row is None or row.state in TERMINAL:
            return row
        row.state = "processing"
        row.attempts += 1
        return row


async def _finish(
    services: Services, delivery_id: str, result: DispatchResult, *, retrying: bool, ignored_because: str
) -> str:
    errors = {**result.permanent, **result.temporary}
    if result.ignored:
        state = "ignored"
    elif retrying:
        state = "queued"
    elif errors:
        state = "failed"
    else:
        state = "done"
    # an ignored delivery has no error; its `error` column says why nothing handled it
    reason = "; ".join(f"{name}: {error}" for name, error in errors.items()) or None
    await _record(
        services, delivery_id, state, ignored_because if state == "ignored" else reason, result.done
    )
    return state


async def _record(
    services: Services, delivery_id: str, state: str, reason: str | None, handled: list[str]
) -> None:
    async with services.sessions.begin() as session:
        row = await session.get(Delivery, delivery_id)
        assert row is not None
        row.state = state
        row.handled = handled
        row.error = reason
        if state in TERMINAL:
            row.finished_at = utcnow()


def _payload(raw: bytes) -> dict[str, Any] | str:
    """The stored payload parsed, or why it cannot be (rows stored before the intake checked
    nesting, say): no retry would parse it, so the delivery fails at once."""
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return f"the stored payload does not parse: {exc}"
    return payload if isinstance(payload, dict) else "the stored payload is not a JSON object"


async def process_delivery(
    services: Services, delivery_id: str, *, job_try: int = 1, jobs: Any = None
) -> str:
    """Run every handler routed for a stored delivery; returns the delivery's new state."""
    token = delivery_id_var.set(delivery_id)
    try:
        row = await _claim(services, delivery_id)
        if row is None:
            log.warning("delivery %s is not in the store", delivery_id)
            return "missing"
        if row.state in TERMINAL:
            return row.state
        payload = _payload(row.payload)
        if isinstance(payload, str):
            log.error("delivery %s failed: %s", delivery_id, payload)
            await _record(services, delivery_id, "failed", payload, row.handled)
            return "failed"
        typed = typed_event(row.event, payload)
        ctx = Context(
            delivery_id=delivery_id,
            event=row.event,
            action=row.action,
            payload=payload,
            sessions=services.sessions,
            jobs=jobs if jobs is not None else await services.queue(),
            log=logging.LoggerAdapter(logging.getLogger("autostack.handlers"), {"delivery_id": delivery_id}),
            model=typed.model,
            github=services.apps.installation(row.installation_id) if row.installation_id else None,
            settings=HandlerSettings(production_permission=services.settings.production_permission),
            permissions=services.permissions,
        )
        result = await dispatch(services.router, ctx, skip=row.handled)
        retrying = bool(result.temporary) and job_try < MAX_TRIES
        # an event githubkit does not know (GHES's cache_sync, say) is still handled if a route
        # asks for it; with none it ends here, never left processing
        unhandled = f"no handler for {ctx.key}" + (f"; {typed.problem}" if typed.problem else "")
        state = await _finish(services, delivery_id, result, retrying=retrying, ignored_because=unhandled)
        log.info(
            "delivery %s (%s) %s",
            delivery_id,
            ctx.key,
            state,
            extra={"event": ctx.key, "handlers": result.matched},
        )
        if retrying:
            raise Retry(defer=retry_delay(job_try))
        return state
    finally:
        delivery_id_var.reset(token)


async def handle_delivery(ctx: dict[str, Any], delivery_id: str) -> str:
    """arq job: process one delivery (job id = delivery id)."""
    services: Services = ctx["services"]
    started = time.perf_counter()
    outcome = "error"
    try:
        outcome = await process_delivery(services, delivery_id, job_try=ctx.get("job_try", 1))
        return outcome
    except Retry:
        outcome = "retry"
        raise
    finally:
        services.metrics.job_duration.labels(HANDLE_DELIVERY, outcome).observe(time.perf_counter() - started)


async def sweep_outbox(ctx: dict[str, Any]) -> int:
    """Cron job: queue deliveries the relay missed (Redis was down) or that got stuck."""
    services: Services = ctx["services"]
    queue: JobQueue = await services.queue()
    sweep: OutboxSweep = ctx["outbox_sweep"]
    added = await queue.enqueue_missing(await sweep.next_page())
    if added:
        log.info("sweeper queued %d deliveries left behind", added)
    return added


async def check_domains(ctx: dict[str, Any]) -> int:
    """Cron job: check every pending custom domain's DNS; return how many got verified.

    Verification is written to the database only: each web process routes verified domains
    from there (bot.web.domain_checks.RouteSync), so it does not matter which worker runs it."""
    services: Services = ctx["services"]
    verified = await verify_pending(services.sessions, ctx["domain_check"])
    if verified:
        # the deploy worker holds the target: it puts the domains on the cluster's Ingress
        queue = await services.queue()
        for project, environment in sorted(set(verified)):
            await queue.enqueue("refresh_domains", project, environment)
    return len(verified)


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
        ctx["outbox_sweep"] = OutboxSweep(
            services.engine, received_for=timedelta(seconds=10), stuck_for=timedelta(seconds=JOB_TIMEOUT + 60)
        )
        # deliveries stranded while no worker ran are queued before new work starts
        await sweep_outbox(ctx)

    return Worker(
        functions=[handle_delivery],
        # unique: a scheduled run is queued under one job id, so it runs once across all workers
        cron_jobs=[
            cron(sweep_outbox, second={0, 30}, run_at_startup=False, unique=True),
            # every minute, off the sweeper's seconds so the two do not start together
            cron(check_domains, second=15, run_at_startup=False, unique=True),
            # each minute and at start; the reconciler's database lease keeps it to one run per
            # AUTOSTACK_REDELIVER_INTERVAL across workers. Burst workers (tests, one-off drains) skip it.
            *(
                []
                if burst
                else [cron(reconcile_deliveries, second=45, run_at_startup=True, unique=True, timeout=900)]
            ),
        ],
        redis_settings=redis_settings(services.redis_url),
        on_startup=on_startup,
        burst=burst,
        handle_signals=handle_signals,
        job_timeout=job_timeout,
        max_tries=MAX_TRIES,
        poll_delay=poll_delay,
        keep_result=3600,
        ctx={},
    )


async def reconcile_cluster(ctx: dict[str, Any]) -> int:
    """Destroy previews idle past their TTL, then orphans (in the cluster, not in the database)."""
    # the kubernetes client loads only where AUTOSTACK_TARGET=kubernetes (see bot.serve)
    from deployer.targets.kubernetes.reconcile import reconcile

    services, runtime = ctx["services"], ctx["deploy"]
    # the closed pull request's path, which also marks the preview's GitHub Deployments inactive
    expired = await expire_idle_previews(services.sessions, runtime.target, runtime.hub)
    for preview in expired:
        idle = f"idle since {preview.last_activity_at:%Y-%m-%d %H:%M} UTC, longer than previews.ttl"
        await _audit(services, preview.project, preview.environment, "environment.expired", idle)
    reclaimed = await reconcile(services.sessions, runtime.target)
    for orphan in reclaimed:
        reason = "in the cluster but not active in the database"
        project_id = await _audit(
            services, orphan.project, orphan.environment, "environment.reclaimed", reason
        )
        if project_id is not None:
            # GitHub still shows the environment's Deployments as active until told otherwise
            await runtime.hub.emit(EnvironmentDestroyed(project_id, orphan.environment))
    return len(expired) + len(reclaimed)


async def _audit(
    services: Services, project_name: str, environment: str, action: str, reason: str
) -> int | None:
    """Record what the reconciler did to an environment; return its project's id (None if gone)."""
    async with services.sessions.begin() as session:
        project = await session.scalar(select(Project).where(Project.name == project_name))
        await record_activity(
            session,
            actor="autostack",
            action=action,
            target=f"{project_name}/{environment}",
            project_id=project.id if project else None,
            reason=reason,
        )
        return project.id if project else None


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
        # a deployment is not retried blindly: it ends failed with its reason, and people redeploy
        max_tries=1,
        max_jobs=max_jobs,
        poll_delay=poll_delay,
        keep_result=3600,
        ctx={},
        # unique: one run per interval across however many deploy workers there are
        cron_jobs=[cron(reconcile_cluster, minute=set(range(0, 60, 10)), run_at_startup=False, unique=True)]
        if services.settings.cluster is not None
        else [],
    )
