"""The figures `/metrics` reads from the database at scrape time: every process reads the same
rows, so any replica reports the whole installation's deployments and reconciler actions."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.hook_redeliveries import ROW
from store.models import AuditEvent, Delivery, Deployment, HookReconciler

# the activity-log actions of the cluster reconciler (bot.worker.deliveries.reconcile_cluster)
CLUSTER_RECONCILER_ACTIONS = ("environment.expired", "environment.reclaimed")


@dataclass(frozen=True, slots=True)
class StoredFigures:
    """What the database says right now, for the metrics that describe the whole installation."""

    deployments: dict[str, int] = field(default_factory=dict)
    outbox_pending: int = 0
    delivery_reconciler: dict[str, int] = field(default_factory=dict)
    cluster_reconciler: dict[str, int] = field(default_factory=dict)


async def stored_figures(sessions: async_sessionmaker[AsyncSession]) -> StoredFigures:
    """Deployments by state, deliveries not yet queued, and both reconcilers' action counts."""
    async with sessions() as session:
        by_state = await session.execute(select(Deployment.state, func.count()).group_by(Deployment.state))
        pending = await session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.state == "received")
        )
        counts = await session.scalar(select(HookReconciler.counts).where(HookReconciler.id == ROW))
        actions = await session.execute(
            select(AuditEvent.action, func.count())
            .where(AuditEvent.action.in_(CLUSTER_RECONCILER_ACTIONS), AuditEvent.actor == "autostack")
            .group_by(AuditEvent.action)
        )
        return StoredFigures(
            deployments={state: int(n) for state, n in by_state.all()},
            outbox_pending=int(pending or 0),
            delivery_reconciler={key: int(value) for key, value in (counts or {}).items()},
            cluster_reconciler={action: int(n) for action, n in actions.all()},
        )
