"""Cancelling a deployment while it is queued, building or deploying."""

from __future__ import annotations

from deployer.events import EventSink, Finished
from deployer.operations import OperationError
from deployer.records import Sessions
from deployer.state import IN_PROGRESS, advance
from store.deployment_runs import stop_deployment
from store.models import Deployment, utcnow


async def cancel_deployment(sessions: Sessions, sink: EventSink, deployment_id: int, actor: str) -> str:
    """Mark the deployment cancelled and return the reason recorded. The worker running it sees
    that within a poll, stops the build and reports it; a queued one (or one whose worker is
    gone) is reported here. OperationError when it already ended."""
    reason = f"cancelled by {actor}"

    def stop(deployment: Deployment) -> None:
        if deployment.state in IN_PROGRESS:
            advance(deployment, "cancelled", utcnow(), reason)

    stopped = await stop_deployment(sessions, deployment_id, stop)
    if stopped is None:
        raise OperationError(f"no deployment {deployment_id}")
    if stopped.before not in IN_PROGRESS:
        raise OperationError(
            f"deployment {deployment_id} is already {stopped.before}; only a running one can be cancelled"
        )
    if not stopped.worker_alive:
        await sink.emit(Finished(deployment_id, "cancelled", "cancelled", reason))
    return reason
