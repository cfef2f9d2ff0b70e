"""The arq worker: turns queued deliveries into handler runs, sweeps the outbox, and checks
pending custom domains once a minute.

`handle_delivery` is idempotent on the delivery's stored state, so a job that runs twice
(a worker killed mid-job, a sweep racing the relay) has one effect.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from arq import Retry, cron, func
from arq.worker import Worker
from sqlalchemy import select, update

from bot.deploy_jobs import DEPLOY_FUNCTIONS, DeployRuntime, recover, sweep_deployments
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
from handlers.errors import is_temporary
from handlers.router import DispatchResult, dispatch
from store.activity import record_activity
from store.leases import LEASE, RENEW_EVERY, TERMINAL, claim_delivery, expired_delivery_claims, renew_delivery
from store.models import Delivery, Project, utcnow
from store.transient import is_database_outage

log = logging.getLogger("autostack.worker")

MAX_TRIES = 8
# a delivery claimed this often never finished (its job kept dying or timing out): it fails
MAX_CLAIMS = 20
JOB_TIMEOUT = 600
DEPLOY_TIMEOUT = 3600
# How long a job keeps retrying through a database or Redis outage before it records the
# delivery failed. If the database is still down then, the row stays unfinished and the
# sweeper queues it again once the database answers, so nothing acknowledged is lost.
OUTAGE_RETRY_FOR = timedelta(minutes=15)
# arq's own limit stays out of the way: MAX_TRIES, MAX_CLAIMS and OUTAGE_RETRY_FOR decide
ARQ_MAX_TRIES = 100_000
SWEEP_SECONDS = set(range(0, 60, 10))
# the worker context's key for how long arq locks a job it started (its in-progress key)
IN_PROGRESS_MS = "in_progress_ms"


def retry_delay(attempt: int, retry_after: float | None = None) -> float:
    """When to try again: when the failure said (a rate limit's reset, plus a second so the
    reset has passed), else exponential backoff of 2 s, 4 s, 8 s … capped at 5 minutes."""
    if retry_after is not None:
        return retry_after + 1.0
    return float(min(300, 2**attempt))


def outage_delay(job_try: int) -> float:
    """Backoff while the database or Redis is down: 0.5 s, 1 s, 2 s … capped at 5 s, so work
    starts within seconds of the outage ending."""
    return min(5.0, 0.5 * 2 ** max(0, job_try - 1))


async def _record(
    services: Services,
    delivery_id: str,
    token: str,
    state: str,
    reason: str | None,
    handled: list[str],
    hold: timedelta | None = None,
) -> bool:
    """Write the delivery's outcome if `token` still holds its claim; False when it lost it."""
    values: dict[str, Any] = {"state": state, "handled": handled, "error": reason}
    if state in TERMINAL:
        values.update(finished_at=utcnow(), claim_expires_at=None)
    elif hold is not None:
        values["claim_expires_at"] = utcnow() + hold
    async with services.sessions.begin() as session:
        result = await session.execute(
            update(Delivery)
            .where(Delivery.delivery_id == delivery_id, Delivery.claimed_by == token)
            .values(**values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def _record_through_outage(services: Services, delivery_id: str, token: str, *args: Any) -> bool:
    """`_record`, retried through a short database outage: the handlers' work is done, and
    giving up here would run them again."""
    delay = 0.5
    deadline = time.monotonic() + LEASE.total_seconds()
    while True:
        try:
            return await _record(services, delivery_id, token, *args)
        except Exception as exc:
            if not is_database_outage(exc) or time.monotonic() > deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(2.0, delay * 2)


async def _keep_claim(services: Services, delivery_id: str, token: str) -> None:
    """Renew the job's claim while its handlers run, so no sweep hands the delivery on."""
    while True:
        await asyncio.sleep(RENEW_EVERY)
        try:
            if not await renew_delivery(services.sessions, delivery_id, token):
                log.warning("delivery %s: claim lost to another job", delivery_id)
                return
        except Exception as exc:
            # the outage may end before the claim expires; the next renewal tries again
            log.warning("delivery %s: renewing the claim failed: %s", delivery_id, type(exc).__name__)


def _payload(raw: bytes) -> dict[str, Any] | str:
    """The stored payload parsed, or why it cannot be (rows stored before the intake checked
    nesting, say): no retry would parse it, so the delivery fails at once."""
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return f"the stored payload does not parse: {exc}"
    return payload if isinstance(payload, dict) else "the stored payload is not a JSON object"


async def process_delivery(
    services: Services, delivery_id: str, *, job_try: int = 1, jobs: Any = None, token: str | None = None
) -> str:
    """Run every handler routed for a stored delivery; returns the delivery's new state, or
    "held" when another job's live claim holds it. `token` names the job (one claim per job)."""
    token = token or f"direct:{uuid.uuid4().hex}"
    context_token = delivery_id_var.set(delivery_id)
    try:
        async with services.sessions.begin() as session:
            claim, row = await claim_delivery(session, delivery_id, token)
        if claim.outcome == "missing":
            log.warning("delivery %s is not in the store", delivery_id)
            return "missing"
        if claim.outcome == "held":
            log.info("delivery %s is held by another job's live claim; leaving it", delivery_id)
            return "held"
        assert row is not None
        if claim.outcome == "terminal":
            return row.state
        payload = _payload(row.payload)
        if claim.attempts > MAX_CLAIMS:
            payload = f"gave up after {MAX_CLAIMS} attempts that never finished"
        if isinstance(payload, str):
            log.error("delivery %s failed: %s", delivery_id, payload)
            await _record(services, delivery_id, token, "failed", payload, row.handled)
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
            last_attempt=job_try >= MAX_TRIES,
        )
        heartbeat = asyncio.create_task(_keep_claim(services, delivery_id, token))
        try:
            result = await dispatch(services.router, ctx, skip=row.handled)
            retrying = bool(result.temporary) and claim.attempts < MAX_TRIES
            # an event githubkit does not know (GHES's cache_sync, say) is still handled if a
            # route asks for it; with none it ends here, never left processing
            unhandled = f"no handler for {ctx.key}" + (f"; {typed.problem}" if typed.problem else "")
            defer = retry_delay(claim.attempts, result.retry_after)
            state = _outcome(result, retrying=retrying)
            errors = {**result.permanent, **result.temporary}
            # an ignored delivery has no error; its `error` column says why nothing handled it
            reason = unhandled if state == "ignored" else "; ".join(f"{n}: {e}" for n, e in errors.items())
            # while a retry waits, the claim covers the wait: no sweep resumes it meanwhile
            hold = timedelta(seconds=defer) + LEASE if retrying else None
            kept = await _record_through_outage(
                services, delivery_id, token, state, reason or None, result.done, hold
            )
        finally:
            heartbeat.cancel()
        if not kept:
            log.warning("delivery %s: claim lost before it finished; the new holder finishes it", delivery_id)
            return "held"
        log.info(
            "delivery %s (%s) %s",
            delivery_id,
            ctx.key,
            state,
            extra={"event": ctx.key, "handlers": result.matched},
        )
        if retrying:
            raise Retry(defer=defer)
        return state
    finally:
        delivery_id_var.reset(context_token)


def _outcome(result: DispatchResult, *, retrying: bool) -> str:
    if result.ignored:
        return "ignored"
    if retrying:
        return "queued"
    return "failed" if result.permanent or result.temporary else "done"


async def _give_up(services: Services, delivery_id: str, reason: str) -> None:
    """Record a delivery failed after an outage outlasted OUTAGE_RETRY_FOR (if the database
    answers now; if not, the row stays unfinished and the sweeper tries it again later)."""
    try:
        async with services.sessions.begin() as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.delivery_id == delivery_id, Delivery.state.not_in(TERMINAL))
                .values(state="failed", error=reason, finished_at=utcnow(), claim_expires_at=None)
            )
    except Exception as exc:
        if not is_temporary(exc):
            raise
        log.error("delivery %s: could not record the failure either: %s", delivery_id, type(exc).__name__)


async def handle_delivery(ctx: dict[str, Any], delivery_id: str) -> str:
    """arq job: process one delivery (job id = delivery id, or `<id>~<n>` when resumed)."""
    services: Services = ctx["services"]
    started = time.perf_counter()
    outcome = "error"
    job_try = ctx.get("job_try", 1)
    try:
        outcome = await process_delivery(
            services, delivery_id, job_try=job_try, token=ctx.get("job_id") or delivery_id
        )
        return outcome
    except Retry:
        outcome = "retry"
        raise
    except Exception as exc:
        if not is_temporary(exc):
            raise
        enqueued: datetime = ctx.get("enqueue_time") or datetime.now(UTC)
        if datetime.now(UTC) - enqueued > OUTAGE_RETRY_FOR:
            reason = f"gave up after {OUTAGE_RETRY_FOR} of outage: {type(exc).__name__}: {exc}"
            log.error("delivery %s failed: %s", delivery_id, reason)
            await _give_up(services, delivery_id, reason[:2000])
            outcome = "failed"
            return outcome
        log.warning("delivery %s: %s; retrying", delivery_id, type(exc).__name__)
        outcome = "retry"
        raise Retry(defer=outage_delay(job_try)) from exc
    finally:
        services.metrics.job_duration.labels(HANDLE_DELIVERY, outcome).observe(time.perf_counter() - started)


async def sweep_outbox(ctx: dict[str, Any]) -> int:
    """Cron job: queue deliveries the relay missed (Redis was down, or lost its data) and hand
    on those whose job's claim expired (its worker died); returns how many were queued."""
    services: Services = ctx["services"]
    queue: JobQueue = await services.queue()
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
        ctx["outbox_sweep"] = OutboxSweep(services.engine, received_for=timedelta(seconds=10))
        # deliveries stranded while no worker ran are queued before new work starts
        await sweep_outbox(ctx)

    worker = Worker(
        functions=[handle_delivery],
        # unique: a scheduled run is queued under one job id, so it runs once across all workers
        cron_jobs=[
            # every 10 s: a dead worker's claim (15 s) is handed on within 30 s
            cron(sweep_outbox, second=SWEEP_SECONDS, run_at_startup=False, unique=True),
            # every minute, off the sweeper's seconds so the two do not start together
            cron(check_domains, second=15, run_at_startup=False, unique=True),
            # each minute and at start; the reconciler's database lease keeps it to one run per
            # AUTOSTACK_REDELIVER_INTERVAL across workers. Burst workers (tests, one-off drains) skip it.
            *(
                []
                if burst
                else [cron(reconcile_deliveries, second=45, run_at_startup=True, unique=True, timeout=900)]
            ),
            cron("bot.retention.retention_cron", minute=41, second=0, run_at_startup=False, unique=True),
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
        cron_jobs=[
            # off the delivery sweeper's seconds; an expired lease (15 s) is failed within 30 s
            cron(sweep_deployments, second=set(range(5, 60, 10)), run_at_startup=False, unique=True),
            *(
                [cron(reconcile_cluster, minute=set(range(0, 60, 10)), run_at_startup=False, unique=True)]
                if services.settings.cluster is not None
                else []
            ),
        ],
    )
