"""One context per delivery: what a handler needs, and nothing it should find by itself."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from handlers.permissions import PermissionCache, ProductionLevel
from handlers.ports import GitHubPort
from store.db import Sessions


class JobEnqueuer(Protocol):
    """Where handlers put work for later (deployments, destroys)."""

    async def enqueue(self, function: str, *args: Any, job_id: str | None = None) -> bool:
        """Queue `function(*args)`; False when a job with `job_id` already exists."""
        ...


@dataclass(frozen=True)
class HandlerSettings:
    """The operator's choices handlers follow (from bot settings, read once at start-up)."""

    # the GitHub role needed for production, rollback, promote and destroy
    production_permission: ProductionLevel = "maintain"


@dataclass
class Context:
    """A delivery being handled: its event, payload, clients and a logger tagged with its id."""

    delivery_id: str
    event: str
    action: str | None
    payload: dict[str, Any]
    sessions: Sessions
    jobs: JobEnqueuer
    log: logging.LoggerAdapter[logging.Logger]
    # the installation's GitHub client; None only where no GitHub is reachable at all
    github: GitHubPort | None = None
    settings: HandlerSettings = field(default_factory=HandlerSettings)
    # share one per process so answers outlive a single delivery
    permissions: PermissionCache = field(default_factory=PermissionCache)
    extras: dict[str, Any] = field(default_factory=dict)
    # the job's last try: a temporary failure now is final, so handlers say so to the user
    last_attempt: bool = False

    @property
    def key(self) -> str:
        """`event.action`, or the bare event for events without an action."""
        return f"{self.event}.{self.action}" if self.action else self.event

    @property
    def installation_id(self) -> int | None:
        """The App installation this delivery came through."""
        installation = self.payload.get("installation") or {}
        value = installation.get("id")
        return int(value) if value is not None else None

    @property
    def repository(self) -> dict[str, Any] | None:
        """The delivery's repository object, when it has one."""
        repo = self.payload.get("repository")
        return repo if isinstance(repo, dict) else None

    @property
    def sender(self) -> str:
        """The login of whoever caused the delivery on GitHub ("github" when it names no one)."""
        return str((self.payload.get("sender") or {}).get("login") or "github")
