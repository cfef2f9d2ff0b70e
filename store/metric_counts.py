"""The figures `/metrics` reads from the database at scrape time (every process reads the same
rows, so any replica reports the whole installation's deployments and reconciler actions), and
`/readyz`'s question whether the database answers at all."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from store.db import Sessions, reading
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


async def database_answers(sessions: Sessions) -> bool:
    """True when the database runs a trivial query; False when it is down or refuses."""
    try:
        async with reading(sessions) as tx:
            await tx.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        return False
    return True


async def stored_figures(sessions: Sessions) -> StoredFigures | None:
    """Deployments by state, deliveries not yet queued, and both reconcilers' action counts;
    None when the database does not answer."""
    try:
        return await _read_figures(sessions)
    except (SQLAlchemyError, OSError):
        return None


async def _read_figures(sessions: Sessions) -> StoredFigures:
    async with reading(sessions) as tx:
        by_state = await tx.execute(select(Deployment.state, func.count()).group_by(Deployment.state))
        pending = await tx.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.state == "received")
        )
        counts = await tx.scalar(select(HookReconciler.counts).where(HookReconciler.id == ROW))
        actions = await tx.execute(
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
