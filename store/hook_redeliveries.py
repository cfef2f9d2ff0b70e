"""The delivery reconciler's rows: its lease and high-water mark, and each redelivery it asked for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store.models import AuditEvent, Delivery, HookReconciler, HookRedelivery, Team

ROW = 1
# A tick that fires a little early still counts as the next interval.
INTERVAL_SLACK = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class Lease:
    """A reconciler run's hold on the row, and how far back the last finished run read."""

    holder: str
    reconciled_to: datetime | None


@dataclass(frozen=True, slots=True)
class Requested:
    """A redelivery GitHub accepted, for the activity log."""

    guid: str
    event: str
    installation_id: int | None


def _insert(conn: AsyncConnection, table: Any) -> Any:
    return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)


async def acquire_lease(
    engine: AsyncEngine, holder: str, now: datetime, *, every: timedelta, lease_for: timedelta
) -> Lease | None:
    """Take the lease unless another run holds it or one started within the last interval."""
    async with engine.begin() as conn:
        await conn.execute(_insert(conn, HookReconciler).values(id=ROW, counts={}).on_conflict_do_nothing())
        taken = await conn.execute(
            update(HookReconciler)
            .where(
                HookReconciler.id == ROW,
                or_(HookReconciler.lease_until.is_(None), HookReconciler.lease_until < now),
                or_(
                    HookReconciler.started_at.is_(None),
                    HookReconciler.started_at <= now - every + INTERVAL_SLACK,
                ),
            )
            .values(lease_holder=holder, lease_until=now + lease_for, started_at=now)
        )
        if taken.rowcount != 1:
            return None
        reconciled_to = await conn.scalar(
            select(HookReconciler.reconciled_to).where(HookReconciler.id == ROW)
        )
    return Lease(holder, reconciled_to)


async def renew_lease(engine: AsyncEngine, lease: Lease, now: datetime, lease_for: timedelta) -> bool:
    """Extend the lease; False when it expired and another run took it."""
    async with engine.begin() as conn:
        renewed = await conn.execute(
            update(HookReconciler)
            .where(HookReconciler.id == ROW, HookReconciler.lease_holder == lease.holder)
            .values(lease_until=now + lease_for)
        )
    return renewed.rowcount == 1


async def finish_run(
    engine: AsyncEngine,
    lease: Lease,
    now: datetime,
    outcome: str,
    *,
    requested: int = 0,
    refused: int = 0,
    reconciled_to: datetime | None = None,
) -> None:
    """Count the run, move the high-water mark when given, and let the lease go."""
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                select(HookReconciler.counts, HookReconciler.lease_holder).where(HookReconciler.id == ROW)
            )
        ).one()
        counts = dict(row.counts or {})
        for key, add in ((f"runs_{outcome}", 1), ("requested", requested), ("refused", refused)):
            counts[key] = int(counts.get(key, 0)) + add
        values: dict[str, Any] = {"counts": counts, "finished_at": now}
        if row.lease_holder == lease.holder:
            values.update(lease_holder=None, lease_until=None)
        if reconciled_to is not None:
            values["reconciled_to"] = reconciled_to
        await conn.execute(update(HookReconciler).where(HookReconciler.id == ROW).values(**values))


async def reconciler_counts(conn: AsyncConnection) -> dict[str, int]:
    """Runs by outcome (`runs_done`, …) and redeliveries `requested` / `refused`, for /metrics."""
    counts = await conn.scalar(select(HookReconciler.counts).where(HookReconciler.id == ROW))
    return {key: int(value) for key, value in (counts or {}).items()}


async def stored_guids(engine: AsyncEngine, guids: Iterable[str]) -> set[str]:
    """The guids among `guids` that AutoStack has stored as deliveries."""
    wanted = list(set(guids))
    found: set[str] = set()
    async with engine.connect() as conn:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.update(
                await conn.scalars(select(Delivery.delivery_id).where(Delivery.delivery_id.in_(chunk)))
            )
    return found


async def claim(
    engine: AsyncEngine,
    *,
    guid: str,
    attempt_id: int,
    event: str,
    action: str | None,
    installation_id: int | None,
    status_code: int,
    delivered_at: datetime,
    now: datetime,
    stale_before: datetime,
) -> bool:
    """Record that this guid is being redelivered; False when it was asked for already (a claim
    older than `stale_before` is one a dead run left behind, and is taken over)."""
    async with engine.begin() as conn:
        inserted = await conn.scalar(
            _insert(conn, HookRedelivery)
            .values(
                guid=guid,
                attempt_id=attempt_id,
                event=event[:64],
                action=action[:64] if action else None,
                installation_id=installation_id,
                status_code=status_code,
                delivered_at=delivered_at,
                state="claimed",
                claimed_at=now,
            )
            .on_conflict_do_nothing(index_elements=["guid"])
            .returning(HookRedelivery.guid)
        )
        if inserted is not None:
            return True
        taken = await conn.execute(
            update(HookRedelivery)
            .where(
                HookRedelivery.guid == guid,
                HookRedelivery.state == "claimed",
                HookRedelivery.claimed_at < stale_before,
            )
            .values(claimed_at=now, attempt_id=attempt_id)
        )
        return taken.rowcount == 1


async def asked_before(engine: AsyncEngine, guids: Iterable[str], stale_before: datetime) -> set[str]:
    """The guids among `guids` already requested, refused, or claimed by a run still alive."""
    wanted = list(set(guids))
    found: set[str] = set()
    async with engine.connect() as conn:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.update(
                await conn.scalars(
                    select(HookRedelivery.guid).where(
                        HookRedelivery.guid.in_(chunk),
                        or_(HookRedelivery.state != "claimed", HookRedelivery.claimed_at >= stale_before),
                    )
                )
            )
    return found


async def settle(engine: AsyncEngine, guid: str, state: str, error: str | None = None) -> None:
    """Mark a claimed redelivery `requested` or `refused` (with GitHub's reason)."""
    async with engine.begin() as conn:
        await conn.execute(
            update(HookRedelivery).where(HookRedelivery.guid == guid).values(state=state, error=error)
        )


async def unclaim(engine: AsyncEngine, guid: str) -> None:
    """Forget a claim whose request GitHub could not take now: the next run asks again."""
    async with engine.begin() as conn:
        await conn.execute(
            delete(HookRedelivery).where(HookRedelivery.guid == guid, HookRedelivery.state == "claimed")
        )


async def audit_requested(engine: AsyncEngine, requested: list[Requested]) -> None:
    """One activity-log entry per team whose deliveries were redelivered (team-less ones together)."""
    if not requested:
        return
    async with engine.begin() as conn:
        installations = {item.installation_id for item in requested if item.installation_id is not None}
        teams = dict(
            (
                await conn.execute(
                    select(Team.installation_id, Team.id).where(Team.installation_id.in_(installations))
                )
            ).all()
        )
        by_team: dict[int | None, list[Requested]] = {}
        for item in requested:
            by_team.setdefault(teams.get(item.installation_id), []).append(item)
        for team_id, items in by_team.items():
            await conn.execute(
                _insert(conn, AuditEvent).values(
                    team_id=team_id,
                    actor="autostack",
                    action="webhook.redelivery_requested",
                    target=f"{len(items)} failed deliveries",
                    details={
                        "deliveries": [item.guid for item in items],
                        "events": sorted({item.event for item in items}),
                    },
                )
            )
