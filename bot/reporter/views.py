"""What the renderers need to know about a deployment, as plain frozen values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from deployer.app_state import CRASHED, RESTARTING, UNHEALTHY
from store.check_gates import BLOCKED, WAITING

STATE_LABELS = {
    "queued": "⏳ Queued",
    "building": "🔨 Building",
    "deploying": "🚀 Deploying",
    WAITING: "⏸️ Waiting for checks",
    BLOCKED: "⛔ Blocked",
    "ready": "✅ Ready",
    "failed": "❌ Failed",
    "cancelled": "⏹️ Cancelled",
    "superseded": "⏭️ Superseded",
    "timed_out": "⌛ Timed out",
    "destroyed": "🗑️ Destroyed",
    RESTARTING: "🔁 Restarting",
    CRASHED: "💥 Crashed",
    UNHEALTHY: "🩺 Unhealthy",
    "skipped": "⏭️ Skipped: no changes",
}
RUNNING_STATES = frozenset({"queued", "building", "deploying"})


def state_label(state: str) -> str:
    """A short label with an emoji for a deployment or environment state."""
    return STATE_LABELS.get(state, state.capitalize())


def short_sha(sha: str | None) -> str:
    """The seven-character commit abbreviation GitHub shows."""
    return (sha or "")[:7]


def build_time(seconds: float | None, cache_hit: bool | None, cache: str | None = None) -> str:
    """`48 s (cache 92 %)`, `1 min 5 s`, or `—` before the build finished."""
    if seconds is None:
        return "—"
    whole = round(seconds)
    text = f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60} s"
    if cache:
        return f"{text} (cache {cache})"
    if cache_hit is not None:
        return f"{text} ({'cache hit' if cache_hit else 'no cache'})"
    return text


@dataclass(frozen=True, slots=True)
class DeploymentView:
    """One deployment as the check run, status and Deployment describe it."""

    id: int
    project: str
    environment: str
    kind: str
    sha: str
    state: str
    log_url: str
    phase: str | None = None
    url: str | None = None
    reason: str | None = None
    framework: str | None = None
    framework_reason: str | None = None
    build_seconds: float | None = None
    cache_hit: bool | None = None
    artifact: str | None = None
    facts: dict[str, str] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)  # seconds of each finished phase
    app: str = ""  # the monorepo app, "" for a one-app repository


@dataclass(frozen=True, slots=True)
class CommentRow:
    """One environment's line in the sticky pull-request comment."""

    environment: str
    state: str
    url: str | None
    sha: str | None
    build_seconds: float | None
    cache_hit: bool | None
    updated: datetime | None  # None for an app the pull request does not change
    # a fork's head commit that waits for a writer's `/deploy`, if any
    awaiting_approval: str | None = None
    # why a built deployment is held: the checks it waits for, or the one that failed
    held_because: str | None = None
    app: str = ""  # the monorepo app, "" for a one-app repository
