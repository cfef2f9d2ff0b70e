"""The arq worker: turns queued deliveries into handler runs, sweeps the outbox, and checks
pending custom domains once a minute.

`handle_delivery` is idempotent on the delivery's stored state, so a job that runs twice
(a worker killed mid-job, a sweep racing the relay) has one effect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from arq import Retry

from bot.logs import delivery_id_var
from bot.services import Services
from bot.worker.queue import HANDLE_DELIVERY
from bot.worker.retries import MAX_TRIES, OUTAGE_RETRY_FOR, outage_delay, retry_delay
from handlers.context import Context, HandlerSettings
from handlers.router import DispatchResult, dispatch
from store.db import transaction
from store.deliveries import fail_unfinished, record_outcome
from store.errors import is_temporary
from store.leases import LEASE, RENEW_EVERY, claim_delivery, renew_delivery
from store.transient import is_database_outage

log = logging.getLogger("autostack.worker")

# a delivery claimed this often never finished (its job kept dying or timing out): it fails
MAX_CLAIMS = 20
JOB_TIMEOUT = 600
DEPLOY_TIMEOUT = 3600
# arq's own limit stays out of the way: MAX_TRIES, MAX_CLAIMS and OUTAGE_RETRY_FOR decide
ARQ_MAX_TRIES = 100_000
SWEEP_SECONDS = set(range(0, 60, 10))


async def _record_through_outage(services: Services, delivery_id: str, token: str, *args: Any) -> bool:
    """`record_outcome`, retried through a short database outage: the handlers' work is done,
    and giving up here would run them again."""
    delay = 0.5
    deadline = time.monotonic() + LEASE.total_seconds()
    while True:
        try:
            return await record_outcome(services.sessions, delivery_id, token, *args)
        except Exception as exc:
            if not is_database_outage(exc) or time.monotonic() > deadline:
                raise
        await asyncio.sleep(delay)
        delay = min(2.0, delay * 2)


async def _keep_claim(services: Services, delivery_id: str, token: str, stop: asyncio.Event) -> None:
    """Renew the job's claim while its handlers run, so no sweep hands the delivery on, until
    `stop` is set. A renewal under way then finishes rather than being cancelled: cut short
    mid-transaction, its connection's close could outlive the delivery (and, on SQLite, never
    end, so the event loop never finished cancelling it)."""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), RENEW_EVERY)
            return
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
        async with transaction(services.sessions) as tx:
            claim, row = await claim_delivery(tx, delivery_id, token)
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
            await record_outcome(services.sessions, delivery_id, token, "failed", payload, row.handled)
            return "failed"
        ctx = Context(
            delivery_id=delivery_id,
            event=row.event,
            action=row.action,
            payload=payload,
            sessions=services.sessions,
            jobs=jobs if jobs is not None else await services.queue(),
            log=logging.LoggerAdapter(logging.getLogger("autostack.handlers"), {"delivery_id": delivery_id}),
            github=services.apps.installation(row.installation_id) if row.installation_id else None,
            settings=HandlerSettings(production_permission=services.settings.production_permission),
            permissions=services.permissions,
            last_attempt=job_try >= MAX_TRIES,
        )
        stop_renewing = asyncio.Event()
        heartbeat = asyncio.create_task(_keep_claim(services, delivery_id, token, stop_renewing))
        try:
            result = await dispatch(services.router, ctx, skip=row.handled)
        finally:
            stop_renewing.set()
            # the outcome is written after the last renewal, so no late renewal shortens the
            # hold of a retry; shielded, a cancelled job still lets a renewal under way finish
            await asyncio.shield(heartbeat)
        retrying = bool(result.temporary) and claim.attempts < MAX_TRIES
        # an event no route asks for (GHES's cache_sync, say) ends here, never left processing
        unhandled = f"no handler for {ctx.key}"
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
        await fail_unfinished(services.sessions, delivery_id, reason)
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
