"""The local router's request log as stored: hits written in batches, each tied to the project
its host names (the analytics page reads them back, store.analytics)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from store.db import Sessions
from store.models import Project, RequestHit


@dataclass(frozen=True, slots=True)
class NewHit:
    """One request the router answered, with the project and environment its host stands for
    (None for a host that is no app's)."""

    at: datetime
    host: str
    project: str | None
    environment: str | None
    status: int
    duration_ms: float
    country: str | None


async def write_hits(sessions: Sessions, hits: Sequence[NewHit]) -> None:
    """Write the hits in one transaction; a project no longer there leaves its hits unattached."""
    names = {hit.project for hit in hits if hit.project is not None}
    async with sessions.begin() as session:
        ids = {
            name: id_
            for name, id_ in await session.execute(
                select(Project.name, Project.id).where(Project.name.in_(names))
            )
        }
        session.add_all(
            RequestHit(
                ts=hit.at,
                host=hit.host,
                project_id=ids.get(hit.project) if hit.project is not None else None,
                environment=hit.environment,
                status=hit.status,
                duration_ms=hit.duration_ms,
                country=hit.country,
            )
            for hit in hits
        )
