"""A live app's state after go-live, and how crashes and health probes move it (pure: no I/O).

These names are the contract shared by the targets, the store, the page, `autostack ls`, the
sticky comment and the GitHub Deployment status: defined here once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

LIVE = "live"
RESTARTING = "restarting"  # it exited once; it is being started again
CRASHED = "crashed"  # it exited again before it was healthy: a restart loop
UNHEALTHY = "unhealthy"  # it runs, but failed its health check several times in a row
APP_STATES = (LIVE, RESTARTING, CRASHED, UNHEALTHY)
TROUBLED = frozenset({RESTARTING, CRASHED, UNHEALTHY})
# failed probes in a row before a running app counts as unhealthy
UNHEALTHY_AFTER = 3
LAST_LINES = 10


@dataclass(frozen=True, slots=True)
class AppHealth:
    """Where a live app stands: its state, since when, why, and what led there."""

    state: str
    since: datetime
    reason: str = ""
    exits: int = 0  # exits since it was last healthy
    failures: int = 0  # failed health probes in a row


def went_live(now: datetime) -> AppHealth:
    """The state of an app that just passed its health check and got its traffic."""
    return AppHealth(LIVE, now)


def exited(health: AppHealth, code: int | None, now: datetime) -> AppHealth:
    """The app's process ended on its own (the supervisor restarts it)."""
    exits = health.exits + 1
    since = now if health.state == LIVE else health.since
    how = (
        f"exited with code {code}"
        if code is not None and code >= 0
        else f"was killed by signal {-(code or 0)}"
    )
    if exits == 1:
        return AppHealth(RESTARTING, since, f"the app {how}; restarting it", exits)
    return AppHealth(CRASHED, since, f"the app {how}, {exits} times since it was last healthy", exits)


def probed(health: AppHealth, ok: bool, detail: str, now: datetime) -> AppHealth:
    """A health probe of the running app answered (`ok`) or not (`detail` says how)."""
    if ok:
        return dataclasses.replace(health, failures=0) if health.state == LIVE else went_live(now)
    failures = health.failures + 1
    if health.state == LIVE and failures >= UNHEALTHY_AFTER:
        return AppHealth(
            UNHEALTHY, now, f"the health check failed {failures} times in a row: {detail}", 0, failures
        )
    if health.state == UNHEALTHY:
        reason = f"the health check failed {failures} times in a row: {detail}"
        return dataclasses.replace(health, failures=failures, reason=reason)
    # a restarting app is not judged by its probes while it starts up: its next exit or pass is
    return dataclasses.replace(health, failures=failures)
