"""Automatic deploys into a locked environment: recorded, never run, reported as held."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from store import locks
from store.models import Deployment, utcnow


async def hold_if_locked(session: AsyncSession, deployment: Deployment) -> bool:
    """Cancel a just-queued automatic deployment whose environment is locked; True when held.

    The deployment row stays, so the push or update is on record with the lock as its reason.
    One already past `queued` (a redelivered event) is left as it is.
    """
    if deployment.state != "queued":
        return False
    lock = await locks.lock_of(session, deployment.project_id, deployment.environment)
    if lock is None:
        return False
    deployment.state, deployment.reason = "cancelled", locks.describe(lock)
    deployment.finished_at = utcnow()
    await session.flush()
    return True
