"""What the deployer tells the world while it works: phase changes, log lines, the outcome.

The deployer never talks to GitHub; the bot's reporter, the web page and the CLI each listen
to these events through an `EventSink` and turn them into what their audience sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

Outcome = Literal["success", "failure", "cancelled", "timed_out"]


@dataclass(frozen=True, slots=True)
class Queued:
    """A deployment row exists and waits for a worker."""

    deployment_id: int


@dataclass(frozen=True, slots=True)
class PhaseStarted:
    """The deployment entered a phase: source, detect, install, build, start, health, switch."""

    deployment_id: int
    phase: str
    at: datetime
    detail: str = ""


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of build or runtime output, secrets already masked."""

    deployment_id: int
    seq: int
    at: datetime
    text: str
    stream: str = "build"


@dataclass(frozen=True, slots=True)
class Finished:
    """The deployment reached a terminal state."""

    deployment_id: int
    outcome: Outcome
    state: str
    reason: str | None = None
    url: str | None = None
    facts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Held:
    """Built, and held back until its required checks pass: `waiting`, or `blocked` by one."""

    deployment_id: int
    state: str
    reason: str


@dataclass(frozen=True, slots=True)
class EnvironmentDestroyed:
    """An environment's running app and resources are gone (PR closed, branch deleted, …)."""

    project_id: int
    environment: str


@dataclass(frozen=True, slots=True)
class AppStateChanged:
    """A live app crashed, restarts, fails its health check, or is healthy again (see
    deployer.app_state for the state names); `last_lines` are masked."""

    project: str
    environment: str
    deployment_id: int
    state: str
    since: datetime
    reason: str = ""
    last_lines: tuple[str, ...] = ()


DeployEvent = Queued | PhaseStarted | LogLine | Held | Finished | EnvironmentDestroyed | AppStateChanged


class EventSink(Protocol):
    """Anything that listens to deployer events."""

    async def emit(self, event: DeployEvent) -> None:
        """Take one event; must not raise for a listener's own failure."""
        ...
