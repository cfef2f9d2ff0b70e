"""A deployment's log as stored: its lines still in the database, or where retention archived them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from store.db import Sessions, reading
from store.models import DeploymentLog, LogArchive


@dataclass(frozen=True, slots=True)
class StoredLog:
    """The lines asked for, or (none left in the database) the archive that holds them."""

    lines: Sequence[DeploymentLog]
    archived: LogArchive | None = None


async def stored_log(
    sessions: Sessions, deployment_id: int, *, after: int = 0, limit: int | None = None
) -> StoredLog:
    """A deployment's log lines after seq `after`, in order; with none, its archive's location."""
    async with reading(sessions) as tx:
        lines = (
            await tx.scalars(
                select(DeploymentLog)
                .where(DeploymentLog.deployment_id == deployment_id, DeploymentLog.seq > after)
                .order_by(DeploymentLog.seq)
                .limit(limit)
            )
        ).all()
        archived = None if lines else await tx.get(LogArchive, deployment_id)
    return StoredLog(lines, archived)
