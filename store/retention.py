"""Queries of the retention job: what is old enough to archive, and removing it once archived."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import Delivery, Deployment, DeploymentLog, LogArchive, Project

# Deliveries still to be handled (received, queued, processing) are never pruned.
FINISHED_DELIVERY_STATES = ("done", "failed", "ignored")


async def logs_due(session: AsyncSession, before: datetime, limit: int) -> list[tuple[int, str]]:
    """(deployment id, project name) of deployments that finished before `before` and still have
    log lines in the database, oldest first."""
    has_lines = exists().where(DeploymentLog.deployment_id == Deployment.id)
    rows = await session.execute(
        select(Deployment.id, Project.name)
        .join(Project, Project.id == Deployment.project_id)
        .where(Deployment.finished_at < before, has_lines)
        .order_by(Deployment.id)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in rows]


async def log_lines(session: AsyncSession, deployment_id: int) -> Sequence[DeploymentLog]:
    """Every line of one deployment's log, in order."""
    return (
        await session.scalars(
            select(DeploymentLog)
            .where(DeploymentLog.deployment_id == deployment_id)
            .order_by(DeploymentLog.seq)
        )
    ).all()


async def mark_log_archived(
    session: AsyncSession, deployment_id: int, *, bucket: str, key: str, up_to_seq: int, lines: int
) -> None:
    """Delete a deployment's log lines up to the last archived one and record where their archive
    is (call after the upload, in one transaction, so a log is never gone without its archive)."""
    await session.execute(
        delete(DeploymentLog).where(
            DeploymentLog.deployment_id == deployment_id, DeploymentLog.seq <= up_to_seq
        )
    )
    await session.merge(LogArchive(deployment_id=deployment_id, bucket=bucket, key=key, lines=lines))


async def payloads_due(session: AsyncSession, before: datetime, limit: int) -> Sequence[Delivery]:
    """Finished deliveries received before `before`, oldest first."""
    return (
        await session.scalars(
            select(Delivery)
            .where(Delivery.received_at < before, Delivery.state.in_(FINISHED_DELIVERY_STATES))
            .order_by(Delivery.received_at, Delivery.delivery_id)
            .limit(limit)
        )
    ).all()


async def delete_deliveries(session: AsyncSession, delivery_ids: Sequence[str]) -> None:
    """Remove deliveries whose payloads were archived."""
    await session.execute(delete(Delivery).where(Delivery.delivery_id.in_(delivery_ids)))
