"""Deployment phase durations for /metrics, timed from the deployer's events in the process
that runs the deployment (the deploy worker)."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter, Histogram

from deployer.events import DeployEvent, Finished, PhaseStarted
from store.models import utcnow


class PhaseTimer:
    """Observes each phase's seconds when the next phase starts or the deployment finishes."""

    def __init__(self, phase_seconds: Histogram, finished: Counter) -> None:
        self._phase_seconds = phase_seconds
        self._finished = finished
        self._open: dict[int, tuple[str, datetime]] = {}

    def observe(self, event: DeployEvent) -> None:
        """Take one deployer event; others than phase starts and finishes are ignored."""
        if isinstance(event, PhaseStarted):
            self._close(event.deployment_id, event.at)
            self._open[event.deployment_id] = (event.phase, event.at)
        elif isinstance(event, Finished):
            self._close(event.deployment_id, utcnow())
            self._finished.labels(event.state).inc()

    def _close(self, deployment_id: int, now: datetime) -> None:
        opened = self._open.pop(deployment_id, None)
        if opened is not None:
            phase, started = opened
            self._phase_seconds.labels(phase).observe(max(0.0, (now - started).total_seconds()))
