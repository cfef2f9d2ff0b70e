"""The deployment's states as the deployer reports them, and readings of its phase stamps (pure).

The state machine itself guards the stored rows (store.deployments); its names are re-exported
here for the layers above.
"""

from __future__ import annotations

from typing import Any

from deployer.events import Outcome
from store.deployments import IN_PROGRESS, STOPPED, TERMINAL, StateError, can_move

__all__ = [
    "BUILD_PHASES",
    "IN_PROGRESS",
    "OUTCOMES",
    "RELEASE_PHASES",
    "STOPPED",
    "TERMINAL",
    "StateError",
    "can_move",
    "durations",
    "error_line",
    "phase_seconds",
]
BUILD_PHASES = ("source", "config", "detect", "install", "build")
RELEASE_PHASES = ("release", "start", "health", "switch")
OUTCOMES: dict[str, Outcome] = {
    "ready": "success",
    "failed": "failure",
    "cancelled": "cancelled",
    "superseded": "cancelled",
}


def phase_seconds(phases: dict[str, Any], *names: str) -> float:
    """Total seconds spent in the named phases."""
    return round(sum(float(phases.get(n, {}).get("seconds", 0.0)) for n in names), 3)


def durations(phases: dict[str, Any]) -> dict[str, float]:
    """Each finished phase's seconds, in the order the phases ran."""
    return {name: float(v["seconds"]) for name, v in phases.items() if "seconds" in v}


def error_line(phases: dict[str, Any]) -> int | None:
    """The log line the failure summary quotes (set on the phase that failed), if any."""
    return next((int(v["error_line"]) for v in phases.values() if "error_line" in v), None)
