"""The delivery reconciler: GitHub never resends a delivery AutoStack answered with an error, so
AutoStack reads GitHub's delivery log and asks, once, for each delivery it lost.

A run pages `GET /app/hook/deliveries` newest first, back to the window (3 days, all GitHub
keeps) or to where the last finished run had read, groups the attempts by guid, and redelivers
each guid none of whose attempts succeeded, that is not stored, and that was never asked for.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.github.errors import GitHubPermanentError, GitHubTemporaryError
from bot.services import Services
from store import hook_redeliveries as rows
from store.db import Sessions
from store.models import utcnow

if TYPE_CHECKING:
    from bot.github.hook_deliveries import DeliveryAttempt, HookDeliveries

log = logging.getLogger("autostack.redeliver")

LEASE_FOR = timedelta(minutes=2)
# GitHub can list an attempt a moment after its delivered_at: each run re-reads this much of the last
OVERLAP = timedelta(minutes=10)
# 401: the App's key is wrong or revoked; 404: the App (or its webhook) no longer exists
NO_APP = frozenset({401, 404})


def lost_deliveries(
    attempts: list[DeliveryAttempt], stored: set[str], asked: set[str]
) -> list[DeliveryAttempt]:
    """The newest failed attempt of each guid that never succeeded, is not stored and was not
    asked for, oldest first (so redeliveries arrive in the order the events happened)."""
    by_guid: dict[str, list[DeliveryAttempt]] = {}
    for attempt in attempts:
        by_guid.setdefault(attempt.guid, []).append(attempt)
    lost = [
        max(group, key=lambda attempt: (attempt.delivered_at, attempt.id))
        for guid, group in by_guid.items()
        if guid not in stored and guid not in asked and not any(attempt.ok for attempt in group)
    ]
    return sorted(lost, key=lambda attempt: (attempt.delivered_at, attempt.id))


def read_back_to(now: datetime, window: timedelta, reconciled_to: datetime | None) -> datetime:
    """The oldest delivery time a run reads: the window, or the last finished run's mark."""
    oldest = now - window
    return oldest if reconciled_to is None else max(oldest, reconciled_to - OVERLAP)


@dataclass
class ReconcileRun:
    """What one reconciler run did."""

    outcome: str
    requested: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    read: int = 0


class _LeaseLost(Exception):
    """The lease expired under a slow run and another run took it."""


async def _read_log(
    hooks: HookDeliveries, oldest: datetime, keep_lease: Callable[[], Any]
) -> tuple[list[DeliveryAttempt], datetime | None]:
    attempts: list[DeliveryAttempt] = []
    newest: datetime | None = None
    cursor: str | None = None
    while True:
        page = await hooks.page(cursor)
        for attempt in page.attempts:
            newest = attempt.delivered_at if newest is None else max(newest, attempt.delivered_at)
            if attempt.delivered_at < oldest:
                return attempts, newest
            attempts.append(attempt)
        if page.next_cursor is None or not page.attempts:
            return attempts, newest
        cursor = page.next_cursor
        await keep_lease()


async def reconcile(
    sessions: Sessions,
    hooks: HookDeliveries,
    *,
    interval: timedelta,
    window: timedelta,
    clock: Callable[[], datetime] = utcnow,
) -> ReconcileRun | None:
    """One run, if no other holds the lease and none started within `interval`; None otherwise."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    started = clock()
    lease = await rows.acquire_lease(sessions, holder, started, every=interval, lease_for=LEASE_FOR)
    if lease is None:
        return None

    async def keep_lease() -> None:
        if not await rows.renew_lease(sessions, lease, clock(), LEASE_FOR):
            raise _LeaseLost

    run = ReconcileRun("failed")  # until it gets to the end; an unexpected error is counted as such
    reconciled_to: datetime | None = None
    try:
        oldest = read_back_to(started, window, lease.reconciled_to)
        attempts, newest = await _read_log(hooks, oldest, keep_lease)
        run.read = len(attempts)
        stale_before = clock() - LEASE_FOR
        guids = {attempt.guid for attempt in attempts if not attempt.ok}
        stored = await rows.stored_guids(sessions, guids)
        asked = await rows.asked_before(sessions, guids - stored, stale_before)
        await _redeliver(sessions, hooks, lost_deliveries(attempts, stored, asked), run, keep_lease, clock)
        run.outcome = "done"
        reconciled_to = newest or lease.reconciled_to
    except GitHubTemporaryError as exc:
        log.warning("delivery reconciler: %s; trying again next interval", exc)
        run.outcome = "deferred"
    except GitHubPermanentError as exc:
        run.outcome = "no_app" if exc.status in NO_APP else "failed"
        log.warning("delivery reconciler stopped: %s", exc)
    except _LeaseLost:
        log.warning("delivery reconciler: the lease expired and another run took over")
        run.outcome = "deferred"
    finally:
        await rows.finish_run(
            sessions,
            lease,
            clock(),
            run.outcome,
            requested=len(run.requested),
            refused=len(run.refused),
            reconciled_to=reconciled_to,
        )
    return run


async def _redeliver(
    sessions: Sessions,
    hooks: HookDeliveries,
    lost: list[DeliveryAttempt],
    run: ReconcileRun,
    keep_lease: Callable[[], Any],
    clock: Callable[[], datetime],
) -> None:
    accepted: list[rows.Requested] = []
    try:
        for attempt in lost:
            await keep_lease()
            now = clock()
            claimed = await rows.claim(
                sessions,
                guid=attempt.guid,
                attempt_id=attempt.id,
                event=attempt.event,
                action=attempt.action,
                installation_id=attempt.installation_id,
                status_code=attempt.status_code,
                delivered_at=attempt.delivered_at,
                now=now,
                stale_before=now - LEASE_FOR,
            )
            if not claimed:
                continue
            try:
                await hooks.redeliver(attempt.id)
            except GitHubPermanentError as exc:
                if exc.status in NO_APP:
                    await rows.unclaim(sessions, attempt.guid)
                    raise
                await rows.settle(sessions, attempt.guid, "refused", str(exc)[:500])
                run.refused.append(attempt.guid)
                log.warning("GitHub refused to redeliver %s (%s): %s", attempt.guid, attempt.event, exc)
                continue
            except (GitHubTemporaryError, _LeaseLost):
                await rows.unclaim(sessions, attempt.guid)
                raise
            await rows.settle(sessions, attempt.guid, "requested")
            run.requested.append(attempt.guid)
            accepted.append(rows.Requested(attempt.guid, attempt.event, attempt.installation_id))
            log.info(
                "asked GitHub to redeliver %s (%s, answered %d at %s)",
                attempt.guid,
                attempt.event,
                attempt.status_code,
                attempt.delivered_at.isoformat(),
            )
    finally:
        await rows.audit_requested(sessions, accepted)


async def reconcile_deliveries(ctx: dict[str, Any]) -> str:
    """Cron job (every minute, unique): a reconciler run once the interval has passed."""
    services: Services = ctx["services"]
    settings = services.settings
    if settings.redeliver_interval == 0:
        return "off"
    hooks = services.apps.hook_deliveries()
    if hooks is None:
        log.debug("delivery reconciler: no App credentials (APP_ID/PRIVATE_KEY), nothing to read")
        return "no_app"
    run = await reconcile(
        services.sessions,
        hooks,
        interval=timedelta(minutes=settings.redeliver_interval),
        window=timedelta(hours=settings.redeliver_window),
    )
    if run is None:
        return "skipped"
    if run.requested or run.refused:
        log.info(
            "delivery reconciler: %d redeliveries requested, %d refused (%d attempts read)",
            len(run.requested),
            len(run.refused),
            run.read,
        )
    return run.outcome
