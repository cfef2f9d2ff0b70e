"""The rows behind a project's analytics page: its deployments' timings and the requests the
local router answered for it, since a moment and optionally for one environment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeAlias

from sqlalchemy import Row, select

from store.db import Tx
from store.models import Deployment, RequestHit

# environment, state, created, started, ready, finished, commit time, build seconds
RunRow: TypeAlias = Row[
    str, str, datetime, datetime | None, datetime | None, datetime | None, datetime | None, float | None
]
# when, status, duration (ms), country
HitRow: TypeAlias = Row[datetime, int, float, str | None]


async def deployment_timings(
    tx: Tx, project_id: int, since: datetime, environment: str | None
) -> Sequence[RunRow]:
    """The timings of the project's deployments created since `since`."""
    query = select(
        Deployment.environment,
        Deployment.state,
        Deployment.created_at,
        Deployment.started_at,
        Deployment.ready_at,
        Deployment.finished_at,
        Deployment.commit_time,
        Deployment.build_seconds,
    ).where(Deployment.project_id == project_id, Deployment.created_at >= since)
    if environment:
        query = query.where(Deployment.environment == environment)
    return (await tx.execute(query)).all()


async def request_hits(
    tx: Tx, project_id: int, since: datetime, environment: str | None, limit: int
) -> Sequence[HitRow]:
    """Up to `limit` of the requests the router answered for the project since `since`."""
    query = select(RequestHit.ts, RequestHit.status, RequestHit.duration_ms, RequestHit.country).where(
        RequestHit.project_id == project_id, RequestHit.ts >= since
    )
    if environment:
        query = query.where(RequestHit.environment == environment)
    return (await tx.execute(query.limit(limit))).all()
