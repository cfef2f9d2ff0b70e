"""HTTP API behind `autostack deploy | ls | logs | rollback | destroy` (mounted by bot/app.py).

The app must set `app.state.deploy` to a `DeployService`. Progress streams as NDJSON lines
read from the database, so it works whichever process runs the deployment.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bot.log_archive import read_log
from bot.retention_settings import RetentionSettings
from deployer.events import EventSink
from deployer.operations import OperationError, destroy_environment, queue_deployment, rollback
from deployer.state import TERMINAL
from deployer.targets.base import Target
from store.models import ApiToken, Deployment, Project

_PROJECT = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_ENVIRONMENT = re.compile(r"^(production|preview|pr-[0-9]+|branch-[a-z0-9-]{1,40})$")
POLL_SECONDS = 0.2


@dataclass
class DeployService:
    """What the deploy API needs from the running server."""

    sessions: async_sessionmaker[AsyncSession]
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


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


@dataclass(frozen=True)
class TokenHolder:
    """Who a bearer token speaks for: a team (None for the local admin token) and a role."""

    team_id: int | None
    role: str
    name: str


async def authenticate(request: Request, service: DeployService) -> TokenHolder | None:
    """The holder of the request's bearer token: the admin token or a hashed ApiToken row."""
    header = request.headers.get("authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if not token:
        return None
    if service.admin_token and hmac.compare_digest(token, service.admin_token):
        return TokenHolder(None, "owner", "admin-token")
    digest = hashlib.sha256(token.encode()).hexdigest()
    async with service.sessions() as session:
        row = await session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    return TokenHolder(row.team_id, row.role, row.name) if row is not None else None


async def _authorized(request: Request, service: DeployService) -> bool:
    return await authenticate(request, service) is not None


def _guarded(
    handler: Callable[[Request, DeployService], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        service: DeployService = request.app.state.deploy
        if not await _authorized(request, service):
            return _error(
                401,
                "missing or unknown API token; pass it as 'Authorization: Bearer "
                "<token>' (embedded: the token in <data dir>/admin-token)",
            )
        try:
            return await handler(request, service)
        except OperationError as exc:
            return _error(404, str(exc))

    return endpoint


def _names(request: Request) -> tuple[str, str] | JSONResponse:
    project = request.path_params.get("project") or request.query_params.get("project", "")
    env = request.path_params.get("env") or request.query_params.get("env", "production")
    if not _PROJECT.match(project):
        return _error(
            400, f"project {project!r} is not allowed; use lowercase letters, digits and dashes (at most 63)"
        )
    if not _ENVIRONMENT.match(env):
        return _error(
            400, f"environment {env!r} is not allowed; use production, preview, pr-<number> or branch-<slug>"
        )
    return project, env


def _line(kind: str, **fields: Any) -> bytes:
    return orjson.dumps({"type": kind, **fields}) + b"\n"


async def follow(service: DeployService, deployment_id: int, *, wait: bool = True) -> AsyncIterator[bytes]:
    """NDJSON: the deployment, its phases and log lines as they come, then how it ended."""
    seen_seq, seen_phases = 0, set()
    yield _line("deployment", id=deployment_id)
    while True:
        async with service.sessions() as session:
            row = await session.get(Deployment, deployment_id)
        logs = await read_log(service.sessions, deployment_id, service.retention, after=seen_seq)
        if row is None:
            yield _line("error", message=f"deployment {deployment_id} does not exist")
            return
        for phase in (p for p in (row.phases or {}) if p not in seen_phases):
            seen_phases.add(phase)
            yield _line("phase", phase=phase)
        for entry in logs:
            seen_seq = entry.seq
            yield _line("log", seq=entry.seq, at=entry.ts.isoformat(), text=entry.line)
        if row.state in TERMINAL or not wait:
            yield _line("finished", state=row.state, url=row.url, reason=row.reason)
            return
        await asyncio.sleep(POLL_SECONDS)


def _stream(service: DeployService, deployment_id: int, wait: bool = True) -> StreamingResponse:
    return StreamingResponse(follow(service, deployment_id, wait=wait), media_type="application/x-ndjson")


async def create_deployment(request: Request, service: DeployService) -> Response:
    """POST a gzipped tarball of the folder; stream the deployment's progress."""
    names = _names(request)
    if isinstance(names, JSONResponse):
        return names
    uploads = service.data_dir / "uploads"
    await asyncio.to_thread(uploads.mkdir, parents=True, exist_ok=True)
    path = uploads / f"{uuid.uuid4().hex}.tar.gz"
    size = 0
    with path.open("wb") as out:
        async for chunk in request.stream():
            size += len(chunk)
            if size > service.max_upload_bytes:
                out.close()
                path.unlink()
                return _error(413, f"upload is over {service.max_upload_bytes} bytes")
            out.write(chunk)
    deployment_id = await queue_deployment(
        service.sessions,
        *names,
        trigger="cli",
        source=f"upload:{path}",
        actor=request.headers.get("x-autostack-actor"),
    )
    await service.enqueue(deployment_id)
    return _stream(service, deployment_id)


async def list_deployments(request: Request, service: DeployService) -> Response:
    """The latest deployments, newest first (optionally of one project)."""
    query = select(Deployment, Project.name).join(Project).order_by(Deployment.id.desc()).limit(50)
    if project := request.query_params.get("project"):
        query = query.where(Project.name == project)
    async with service.sessions() as session:
        rows = (await session.execute(query)).all()
    return JSONResponse(
        [
            {
                "id": d.id,
                "project": name,
                "environment": d.environment,
                "state": d.state,
                "trigger": d.trigger,
                "commit": d.commit_sha,
                "framework": d.framework,
                "url": d.url,
                "reason": d.reason,
                "created_at": d.created_at.isoformat(),
                "build_seconds": d.build_seconds,
            }
            for d, name in rows
        ]
    )


async def deployment_logs(request: Request, service: DeployService) -> Response:
    """The deployment's log; with ?follow=1 keeps streaming until it ends."""
    follow_on = request.query_params.get("follow") in ("1", "true")
    return _stream(service, int(request.path_params["id"]), wait=follow_on)


async def rollback_environment(request: Request, service: DeployService) -> Response:
    """Queue a rollback (to ?deployment=N or the previous live one) and stream it."""
    names = _names(request)
    if isinstance(names, JSONResponse):
        return names
    raw = request.query_params.get("deployment")
    if raw is not None and not raw.isdigit():
        return _error(400, f"deployment {raw!r} is not a deployment number")
    deployment_id = await rollback(service.sessions, *names, int(raw) if raw else None)
    await service.enqueue(deployment_id)
    return _stream(service, deployment_id)


async def destroy(request: Request, service: DeployService) -> Response:
    """Stop the environment's app and mark it destroyed."""
    names = _names(request)
    if isinstance(names, JSONResponse):
        return names
    await destroy_environment(service.sessions, service.target, service.sink, *names)
    return JSONResponse({"destroyed": f"{names[0]}/{names[1]}"})


routes: list[Route] = [
    Route("/api/deployments", _guarded(create_deployment), methods=["POST"]),
    Route("/api/deployments", _guarded(list_deployments), methods=["GET"]),
    Route("/api/deployments/{id:int}/logs", _guarded(deployment_logs), methods=["GET"]),
    Route(
        "/api/projects/{project}/environments/{env}/rollback",
        _guarded(rollback_environment),
        methods=["POST"],
    ),
    Route("/api/projects/{project}/environments/{env}", _guarded(destroy), methods=["DELETE"]),
]
