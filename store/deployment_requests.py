"""Deployments as handlers ask for them: the one to build again, and automatic ones a lock holds."""

from __future__ import annotations

from store import locks
from store.db import Tx
from store.models import Deployment, Environment, utcnow


async def redeployable(
    tx: Tx, project_id: int, deployment_id: int
) -> tuple[str, str | None, Environment] | None:
    """(commit, ref, environment) of the project's deployment `deployment_id`, to build it
    again; None when the project made no such deployment or it has no commit."""
    source = await tx.get(Deployment, deployment_id)
    if source is None or source.project_id != project_id or source.commit_sha is None:
        return None
    env = await tx.get(Environment, source.environment_id)
    return (source.commit_sha, source.ref, env) if env is not None else None


async def hold_if_locked(tx: Tx, deployment: Deployment) -> bool:
    """Cancel a just-queued automatic deployment whose environment is locked; True when held.

    The deployment row stays, so the push or update is on record with the lock as its reason.
    One already past `queued` (a redelivered event) is left as it is.
    """
    if deployment.state != "queued":
        return False
    lock = await locks.lock_of(tx, deployment.project_id, deployment.environment)
    if lock is None:
        return False
    deployment.state, deployment.reason = "cancelled", locks.describe(lock)
    deployment.finished_at = utcnow()
    await tx.flush()
    return True
