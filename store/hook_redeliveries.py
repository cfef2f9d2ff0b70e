"""The delivery reconciler's rows: its lease and high-water mark, and each redelivery it asked for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from store.db import Sessions, Tx, reading, rows_changed, transaction
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


def _insert(tx: Tx, table: Any) -> Any:
    return (pg_insert if tx.get_bind().dialect.name == "postgresql" else sqlite_insert)(table)


async def acquire_lease(
    sessions: Sessions, holder: str, now: datetime, *, every: timedelta, lease_for: timedelta
) -> Lease | None:
    """Take the lease unless another run holds it or one started within the last interval."""
    async with transaction(sessions) as tx:
        await tx.execute(_insert(tx, HookReconciler).values(id=ROW, counts={}).on_conflict_do_nothing())
        taken = await tx.execute(
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
        if rows_changed(taken) != 1:
            return None
        reconciled_to = await tx.scalar(select(HookReconciler.reconciled_to).where(HookReconciler.id == ROW))
    return Lease(holder, reconciled_to)


async def renew_lease(sessions: Sessions, lease: Lease, now: datetime, lease_for: timedelta) -> bool:
    """Extend the lease; False when it expired and another run took it."""
    async with transaction(sessions) as tx:
        renewed = await tx.execute(
            update(HookReconciler)
            .where(HookReconciler.id == ROW, HookReconciler.lease_holder == lease.holder)
            .values(lease_until=now + lease_for)
        )
    return rows_changed(renewed) == 1


async def finish_run(
    sessions: Sessions,
    lease: Lease,
    now: datetime,
    outcome: str,
    *,
    requested: int = 0,
    refused: int = 0,
    reconciled_to: datetime | None = None,
) -> None:
    """Count the run, move the high-water mark when given, and let the lease go."""
    async with transaction(sessions) as tx:
        row = (
            await tx.execute(
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
        await tx.execute(update(HookReconciler).where(HookReconciler.id == ROW).values(**values))


async def stored_guids(sessions: Sessions, guids: Iterable[str]) -> set[str]:
    """The guids among `guids` that AutoStack has stored as deliveries."""
    wanted = list(set(guids))
    found: set[str] = set()
    async with reading(sessions) as tx:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.update(
                await tx.scalars(select(Delivery.delivery_id).where(Delivery.delivery_id.in_(chunk)))
            )
    return found


async def claim(
    sessions: Sessions,
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
    async with transaction(sessions) as tx:
        inserted = await tx.scalar(
            _insert(tx, HookRedelivery)
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
        taken = await tx.execute(
            update(HookRedelivery)
            .where(
                HookRedelivery.guid == guid,
                HookRedelivery.state == "claimed",
                HookRedelivery.claimed_at < stale_before,
            )
            .values(claimed_at=now, attempt_id=attempt_id)
        )
        return rows_changed(taken) == 1


async def asked_before(sessions: Sessions, guids: Iterable[str], stale_before: datetime) -> set[str]:
    """The guids among `guids` already requested, refused, or claimed by a run still alive."""
    wanted = list(set(guids))
    found: set[str] = set()
    async with reading(sessions) as tx:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found.update(
                await tx.scalars(
                    select(HookRedelivery.guid).where(
                        HookRedelivery.guid.in_(chunk),
                        or_(HookRedelivery.state != "claimed", HookRedelivery.claimed_at >= stale_before),
                    )
                )
            )
    return found


async def settle(sessions: Sessions, guid: str, state: str, error: str | None = None) -> None:
    """Mark a claimed redelivery `requested` or `refused` (with GitHub's reason)."""
    async with transaction(sessions) as tx:
        await tx.execute(
            update(HookRedelivery).where(HookRedelivery.guid == guid).values(state=state, error=error)
        )


async def unclaim(sessions: Sessions, guid: str) -> None:
    """Forget a claim whose request GitHub could not take now: the next run asks again."""
    async with transaction(sessions) as tx:
        await tx.execute(
            delete(HookRedelivery).where(HookRedelivery.guid == guid, HookRedelivery.state == "claimed")
        )


async def audit_requested(sessions: Sessions, requested: list[Requested]) -> None:
    """One activity-log entry per team whose deliveries were redelivered (team-less ones together)."""
    if not requested:
        return
    async with transaction(sessions) as tx:
        installations = {item.installation_id for item in requested if item.installation_id is not None}
        teams = dict(
            (
                await tx.execute(
                    select(Team.installation_id, Team.id).where(Team.installation_id.in_(installations))
                )
            ).all()
        )
        by_team: dict[int | None, list[Requested]] = {}
        for item in requested:
            by_team.setdefault(teams.get(item.installation_id), []).append(item)
        for team_id, items in by_team.items():
            await tx.execute(
                _insert(tx, AuditEvent).values(
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
