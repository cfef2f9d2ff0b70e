"""The deployment state machine and per-phase timestamps (pure: no I/O)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from deployer.events import Outcome
from store.check_gates import BLOCKED, HELD, WAITING
from store.models import Deployment

# waiting / blocked: built, held until the required checks pass (`deploy.after: checks`)
IN_PROGRESS = ("queued", "building", *HELD, "deploying")
TERMINAL = ("ready", "failed", "cancelled", "superseded")
BUILD_PHASES = ("source", "config", "detect", "install", "build")
RELEASE_PHASES = ("release", "start", "health", "switch")
_NEXT: dict[str, frozenset[str]] = {
    "queued": frozenset({"building", "deploying", "failed", "cancelled", "superseded"}),
    # back to queued: a temporary error (the cluster throttling, a database failover) starts it over
    "building": frozenset({"deploying", *HELD, "queued", "failed", "cancelled", "superseded"}),
    WAITING: frozenset({BLOCKED, "deploying", "failed", "cancelled", "superseded"}),
    BLOCKED: frozenset({WAITING, "deploying", "failed", "cancelled", "superseded"}),
    "deploying": frozenset({"ready", "queued", "failed", "cancelled", "superseded"}),
}
OUTCOMES: dict[str, Outcome] = {
    "ready": "success",
    "failed": "failure",
    "cancelled": "cancelled",
    "superseded": "cancelled",
}


class StateError(RuntimeError):
    """A transition the state machine does not allow (a bug, or a race lost to another worker)."""


def can_move(current: str, new: str) -> bool:
    """Whether a deployment in `current` may move to `new`."""
    return new in _NEXT.get(current, frozenset())


def advance(deployment: Deployment, new: str, now: datetime, reason: str | None = None) -> None:
    """Move `deployment` to `new`, stamping when it started, became ready or finished."""
    if not can_move(deployment.state, new):
        raise StateError(f"deployment {deployment.id} cannot go from {deployment.state} to {new}")
    deployment.state = new
    if new in ("building", "deploying") and deployment.started_at is None:
        deployment.started_at = now
    if new == "ready":
        deployment.ready_at = now
    if new in TERMINAL:
        deployment.finished_at = now
    if new in TERMINAL or new == "queued":
        deployment.reason = reason
        deployment.phases = close_phases(deployment.phases or {}, now)


def phase_started(
    phases: dict[str, Any], phase: str, now: datetime, after_line: int | None = None
) -> dict[str, Any]:
    """A new phases dict with `phase` started and any open phase closed.

    `after_line` is the last log line written before the phase began, so a reader of the log
    can put the phase's header right before its first line.
    """
    updated = close_phases(phases, now)
    updated[phase] = {"started_at": now.isoformat()}
    if after_line is not None:
        updated[phase]["after_line"] = after_line
    return updated


def close_phases(phases: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A new phases dict with every open phase finished at `now`."""
    updated = {name: dict(value) for name, value in phases.items()}
    for value in updated.values():
        if "finished_at" not in value:
            started = datetime.fromisoformat(value["started_at"])
            value["finished_at"] = now.isoformat()
            value["seconds"] = round((now - started).total_seconds(), 3)
    return updated


def phase_seconds(phases: dict[str, Any], *names: str) -> float:
    """Total seconds spent in the named phases."""
    return round(sum(float(phases.get(n, {}).get("seconds", 0.0)) for n in names), 3)


def durations(phases: dict[str, Any]) -> dict[str, float]:
    """Each finished phase's seconds, in the order the phases ran."""
    return {name: float(v["seconds"]) for name, v in phases.items() if "seconds" in v}


def error_line(phases: dict[str, Any]) -> int | None:
    """The log line the failure summary quotes (set on the phase that failed), if any."""
    return next((int(v["error_line"]) for v in phases.values() if "error_line" in v), None)
