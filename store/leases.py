"""Leases on deliveries and deployments: which job or process holds one, and until when.

A holder renews its lease every few seconds while it works (`RENEW_EVERY`); a lease not
renewed for `LEASE` seconds belongs to a dead process, and the sweepers hand its work to a
live one. Every write is conditional on the holder's token, so a holder that lost its lease
(paused past the expiry, say) cannot overwrite what the new holder did.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.db import rows_changed
from store.models import Delivery, Deployment, utcnow

Sessions = async_sessionmaker[AsyncSession]

# renewed six times per lease: a holder starved of CPU (a loaded machine, a long GC) has to
# miss 17 s of renewals before its work is handed on; with sweeps every 10 s, work of a dead
# holder still moves on within 30 s
LEASE = timedelta(seconds=20)
RENEW_EVERY = 3.0
TERMINAL = ("done", "ignored", "failed")


@cache
def process_owner() -> str:
    """This process's name in `claimed_by`: host, pid and a random part (pids get reused)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True, slots=True)
class DeliveryClaim:
    """The outcome of trying to claim a delivery for one job."""

    outcome: str  # claimed | missing | terminal | held
    state: str | None = None
    attempts: int = 0


async def claim_delivery(
    session: AsyncSession, delivery_id: str, token: str, now: datetime | None = None
) -> tuple[DeliveryClaim, Delivery | None]:
    """Claim a delivery for the job `token` inside the caller's transaction (the row is
    locked on PostgreSQL); another job's live claim is left alone."""
    now = now or utcnow()
    query = select(Delivery).where(Delivery.delivery_id == delivery_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    row = await session.scalar(query)
    if row is None:
        return DeliveryClaim("missing"), None
    if row.state in TERMINAL:
        return DeliveryClaim("terminal", row.state, row.attempts), row
    live = row.claim_expires_at is not None and row.claim_expires_at > now
    if live and row.claimed_by != token:
        return DeliveryClaim("held", row.state, row.attempts), row
    row.state = "processing"
    row.attempts += 1
    row.claimed_by = token
    row.claim_expires_at = now + LEASE
    return DeliveryClaim("claimed", row.state, row.attempts), row


async def renew_delivery(sessions: Sessions, delivery_id: str, token: str, hold: timedelta = LEASE) -> bool:
    """Extend the job's claim by `hold`; False when the job no longer holds it."""
    async with sessions.begin() as session:
        result = await session.execute(
            update(Delivery)
            .where(Delivery.delivery_id == delivery_id, Delivery.claimed_by == token)
            .values(claim_expires_at=utcnow() + hold)
        )
        return bool(rows_changed(result))


async def expired_delivery_claims(
    sessions: Sessions, *, legacy_after: timedelta, limit: int = 1000
) -> list[tuple[str, int]]:
    """(delivery id, attempts) of deliveries queued or processing whose claim expired, and of
    unclaimed ones older than `legacy_after` (stored before claims existed)."""
    now = utcnow()
    query = (
        select(Delivery.delivery_id, Delivery.attempts)
        .where(
            Delivery.state.in_(("queued", "processing")),
            or_(
                Delivery.claim_expires_at < now,
                Delivery.claim_expires_at.is_(None) & (Delivery.received_at < now - legacy_after),
            ),
        )
        .order_by(Delivery.received_at)
        .limit(limit)
    )
    async with sessions() as session:
        return [(row.delivery_id, row.attempts) for row in await session.execute(query)]


async def renew_deployment(sessions: Sessions, deployment_id: int, owner: str) -> bool:
    """Extend this process's lease on a running deployment; False when it holds none, or when
    the database could not take the write (the run goes on and renews at its next turn)."""
    try:
        async with sessions.begin() as session:
            result = await session.execute(
                update(Deployment)
                .where(Deployment.id == deployment_id, Deployment.claimed_by == owner)
                .values(lease_expires_at=utcnow() + LEASE)
            )
            return bool(rows_changed(result))
    except (SQLAlchemyError, OSError):
        return False


def deployment_lease_expired(now: datetime) -> ColumnElement[bool]:
    """The condition "no live process holds this deployment's lease"."""
    return or_(Deployment.lease_expires_at.is_(None), Deployment.lease_expires_at < now)


async def queued_deployments(sessions: Sessions, older_than: timedelta, limit: int = 500) -> list[int]:
    """Ids of deployments queued for longer than `older_than` (their job may be lost)."""
    query = (
        select(Deployment.id)
        .where(Deployment.state == "queued", Deployment.created_at < utcnow() - older_than)
        .order_by(Deployment.id)
        .limit(limit)
    )
    async with sessions() as session:
        return list(await session.scalars(query))
