"""The JSON API behind `autostack deploy` and `autostack logs`: a gzipped tarball of a folder
becomes a deployment whose progress streams back as NDJSON lines, and so does any deployment's log.

An upload deploys like a redeploy (production needs an admin); under a name no project has, it
makes the project in the key's team, which only a role holding `projects.create` may.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from bot.api.routes import PROJECT, api
from bot.deploy_names import name_problem
from bot.deploy_service import DeployService, follow
from bot.web.context import ActionError, Viewer, actor, team_deployment, team_project, web_state
from bot.web.roles import deploy_permission
from deployer.operations import queue_deployment
from store.db import reading
from store.projects import project_id_named
from store.uploads import create_project, record_upload

_NDJSON = "application/x-ndjson"


def _service(request: Request) -> DeployService:
    service = web_state(request).deploy
    if service is None:
        raise ActionError(503, "this server runs no deploy target")
    return service


async def _may_deploy_to(request: Request, viewer: Viewer, name: str) -> bool:
    """Whether the project exists in the viewer's team (True) or may be made there (False);
    ActionError 404 otherwise, the same answer whether the name is free or another team's."""
    async with reading(web_state(request).sessions) as tx:
        if await team_project(tx, viewer, name) is not None:
            return True
        taken = await project_id_named(tx, name)
    if not viewer.may("projects.create"):
        raise ActionError(
            404, f"no project {name!r} in this key's team; only admin and owner keys make new projects"
        )
    if taken is not None:
        # a key that may make projects learns that the name is taken: making it would tell anyway
        raise ActionError(404, f"no project {name!r} in this key's team, and the name is taken; pick another")
    return False


async def _receive(request: Request, service: DeployService) -> Path:
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
                raise ActionError(413, f"upload is over {service.max_upload_bytes} bytes")
            out.write(chunk)
    return path


async def upload(request: Request, viewer: Viewer) -> Response:
    """Deploy the gzipped tarball in the body to the environment; stream its progress."""
    name, env = request.path_params["name"], request.path_params["env"]
    if problem := name_problem(name, env):
        raise ActionError(400, problem)
    if not viewer.may(deploy_permission(env, "redeploy")):
        raise ActionError(403, f"deploying to {env} needs the admin role (yours: {viewer.role})")
    service = _service(request)
    exists = await _may_deploy_to(request, viewer, name)
    path = await _receive(request, service)
    try:
        if not exists:
            await create_project(
                web_state(request).sessions, actor(request, viewer), name, viewer.team.installation_id
            )
            await _may_deploy_to(request, viewer, name)
    except ActionError:
        with contextlib.suppress(OSError):
            path.unlink()
        raise
    deployment_id = await queue_deployment(
        service.sessions, name, env, trigger="cli", source=f"upload:{path}", actor=viewer.login
    )
    await record_upload(service.sessions, actor(request, viewer), name, env, deployment_id)
    await service.enqueue(deployment_id)
    return StreamingResponse(follow(service, deployment_id), media_type=_NDJSON)


async def deployment_logs(request: Request, viewer: Viewer) -> Response:
    """The deployment's log as NDJSON; with ?follow=1 it keeps streaming until the deployment ends."""
    deployment_id: int = request.path_params["id"]
    async with reading(web_state(request).sessions) as tx:
        found = await team_deployment(tx, viewer, deployment_id)
    if found is None:
        raise ActionError(404, f"no deployment {deployment_id} in this key's team")
    wait = request.query_params.get("follow") in ("1", "true")
    return StreamingResponse(follow(_service(request), deployment_id, wait=wait), media_type=_NDJSON)


routes = [
    api(
        f"{PROJECT}/environments/{{env}}/deployments",
        upload,
        "deployments.redeploy",
        "POST",
        "Deploy a gzipped tarball of a folder (streams NDJSON progress)",
        body={"type": "string", "format": "binary"},
        body_type="application/gzip",
    ),
    api(
        "/api/v1/deployments/{id:int}/logs",
        deployment_logs,
        "deployments.view",
        "GET",
        "A deployment's log as NDJSON (?follow=1: until it ends)",
    ),
]
