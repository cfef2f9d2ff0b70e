"""Cancelling a deployment while it is queued, building or deploying."""

from __future__ import annotations

from deployer.events import EventSink, Finished
from deployer.operations import OperationError
from deployer.state import IN_PROGRESS
from deployer.stops import IN_PROCESS, StopSignals
from store.db import Sessions
from store.deployment_runs import stop_deployment


async def cancel_deployment(
    sessions: Sessions,
    sink: EventSink,
    deployment_id: int,
    actor: str,
    *,
    stops: StopSignals = IN_PROCESS,
) -> str:
    """Mark the deployment cancelled and return the reason recorded. The worker running it is
    signalled through `stops`, stops the build and reports it; a queued one (or one whose worker
    is gone) is reported here. OperationError when it already ended."""
    reason = f"cancelled by {actor}"
    stopped = await stop_deployment(sessions, deployment_id, reason)
    if stopped is None:
        raise OperationError(f"no deployment {deployment_id}")
    if stopped.before not in IN_PROGRESS:
        raise OperationError(
            f"deployment {deployment_id} is already {stopped.before}; only a running one can be cancelled"
        )
    if stopped.worker_alive:
        await stops.notify(deployment_id)
    else:
        await sink.emit(Finished(deployment_id, "cancelled", "cancelled", reason))
    return reason
