"""What the deploy API needs from the running server: the DeployService, who a bearer token
speaks for, and a deployment's progress as NDJSON lines.

The routes are in bot/web/api_*.py (`/api/v1`), checked there by team and role like the pages.
Progress is read from the database, so it streams whichever process runs the deployment.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request

from bot.archive.logs import read_log
from bot.archive.settings import RetentionSettings
from deployer.deploylog import wait_for_lines
from deployer.events import EventSink
from deployer.state import TERMINAL, durations, error_line
from deployer.stops import IN_PROCESS, StopSignals
from deployer.targets.base import Target
from store import deployments, teams
from store.db import Sessions
from store.models import Deployment

POLL_SECONDS = 0.2


@dataclass
class DeployService:
    """What the deploy API needs from the running server."""

    sessions: Sessions
    data_dir: Path
    enqueue: Callable[[int], Awaitable[None]]  # hands a deployment id to the worker
    target: Target
    sink: EventSink
    admin_token: str | None = None
    max_upload_bytes: int = 512 * 1024 * 1024
    # asks the deploy worker to route an environment's custom domains now (verified or removed)
    domains_changed: Callable[[str, str], Awaitable[None]] | None = None
    # where archived deployment logs are read back from (RETAIN_LOGS_DAYS, ARCHIVE_BUCKET)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    # tells the process running a deployment that it was cancelled (Services.stops in `serve`)
    stops: StopSignals = IN_PROCESS


@dataclass(frozen=True)
class TokenHolder:
    """Who a bearer token speaks for: a team (None for the local admin token) and a role."""

    team_id: int | None
    role: str
    name: str


async def authenticate(request: Request, service: DeployService) -> TokenHolder | None:
    """The holder of the request's bearer token: the admin token or a hashed ApiToken row of a team."""
    header = request.headers.get("authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if not token:
        return None
    if service.admin_token and hmac.compare_digest(token, service.admin_token):
        return TokenHolder(None, "owner", "admin-token")
    row = await teams.api_key(service.sessions, token)
    # only the admin token speaks for every project: a row without a team speaks for none
    if row is None or row.team_id is None:
        return None
    return TokenHolder(row.team_id, row.role, row.name)


def _line(kind: str, **fields: Any) -> bytes:
    return orjson.dumps({"type": kind, **fields}) + b"\n"


def summary(row: Deployment) -> dict[str, Any]:
    """How long each phase took, the build time and the log line of the error, for `finished`."""
    phases = dict(row.phases or {})
    return {"phases": durations(phases), "build_seconds": row.build_seconds, "error_line": error_line(phases)}


def _phase_events(phases: dict[str, Any], seen: set[str], before_line: int | None) -> list[bytes]:
    """Headers of the phases not yet sent that began before log line `before_line` (None: all)."""
    due = [
        name
        for name, stamps in phases.items()
        if name not in seen and (before_line is None or int(stamps.get("after_line", -1)) < before_line)
    ]
    seen.update(due)
    return [_line("phase", phase=name) for name in due]


async def follow(service: DeployService, deployment_id: int, *, wait: bool = True) -> AsyncIterator[bytes]:
    """NDJSON: the deployment, its phases and log lines as they come, then how it ended.

    Each phase header goes out right before the first line logged in that phase.
    """
    seen_seq, seen_phases = 0, set[str]()
    yield _line("deployment", id=deployment_id)
    while True:
        row = await deployments.deployment(service.sessions, deployment_id)
        logs = await read_log(service.sessions, deployment_id, service.retention, after=seen_seq)
        if row is None:
            yield _line("error", message=f"deployment {deployment_id} does not exist")
            return
        phases = dict(row.phases or {})
        for entry in logs:
            for header in _phase_events(phases, seen_phases, entry.seq):
                yield header
            seen_seq = entry.seq
            yield _line("log", seq=entry.seq, at=entry.ts.isoformat(), text=entry.line)
        # the pipeline stores a phase's start only after every earlier line: the rest are due
        for header in _phase_events(phases, seen_phases, None):
            yield header
        if row.state in TERMINAL or not wait:
            yield _line("finished", state=row.state, url=row.url, reason=row.reason, **summary(row))
            return
        await wait_for_lines(deployment_id, POLL_SECONDS)
