"""A deployment's page with its live log (Server-Sent Events), and the deploy actions:
redeploy, rollback, promote, destroy — with the same permissions as the PR commands."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse

from bot.api_deploy import DeployService, follow
from bot.web.context import Viewer, audit, page, refuse, render, team_project, web_state
from bot.web.roles import deploy_permission
from deployer.operations import OperationError, destroy_environment, promote, queue_deployment, rollback
from store.models import Deployment, DeploymentLog, Environment, Project

LOG_TAIL = 2000


async def _deployment(request: Request, viewer: Viewer) -> tuple[Deployment, Project] | None:
    async with web_state(request).sessions() as session:
        deployment = await session.get(Deployment, request.path_params["id"])
        if deployment is None:
            return None
        project = await session.get(Project, deployment.project_id)
        if project is None or await team_project(session, viewer, project.name) is None:
            return None
    return deployment, project


async def deployment_page(request: Request, viewer: Viewer) -> Response:
    """Phases, timing, commit link and the log so far; the page script follows the rest."""
    found = await _deployment(request, viewer)
    if found is None:
        return refuse(request, viewer, 404, f"no deployment {request.path_params['id']} in your team")
    deployment, project = found
    async with web_state(request).sessions() as session:
        lines = (
            await session.scalars(
                select(DeploymentLog)
                .where(DeploymentLog.deployment_id == deployment.id)
                .order_by(DeploymentLog.seq)
                .limit(LOG_TAIL)
            )
        ).all()
    return render(request, "deployment.html", viewer, deployment=deployment, project=project, lines=lines)


async def _sse(service: DeployService, deployment_id: int, after: int) -> AsyncIterator[bytes]:
    # the NDJSON stream of the deploy API, re-framed as SSE events named by their type
    async for raw in follow(service, deployment_id):
        event = orjson.loads(raw)
        if event["type"] == "log" and event["seq"] <= after:
            continue
        yield b"event: " + event["type"].encode() + b"\ndata: " + raw.rstrip(b"\n") + b"\n\n"


async def deployment_events(request: Request, viewer: Viewer) -> Response:
    """The live log as Server-Sent Events, from after ?after=<seq> until the deployment ends."""
    found = await _deployment(request, viewer)
    service = web_state(request).deploy
    if found is None or service is None:
        return refuse(request, viewer, 404, "no such deployment")
    after = int(request.query_params.get("after", "0") or 0)
    return StreamingResponse(
        _sse(service, found[0].id, after),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


async def _enqueue(request: Request, deployment_id: int) -> Response:
    service = web_state(request).deploy
    if service is not None:
        await service.enqueue(deployment_id)
    return RedirectResponse(f"/deployments/{deployment_id}", 303)


async def _environment_action(request: Request, viewer: Viewer, action: str) -> Response:
    name, env_name = request.path_params["name"], request.path_params["env"]
    needed = "environments.destroy" if action == "destroy" else deploy_permission(env_name, action)
    if not viewer.may(needed):
        return refuse(request, viewer, 403, f"{action} of {env_name} needs the admin role")
    web = web_state(request)
    async with web.sessions.begin() as session:
        project = await team_project(session, viewer, name)
        env = project and await session.scalar(
            select(Environment).where(Environment.project_id == project.id, Environment.name == env_name)
        )
        if project is None or env is None:
            return refuse(request, viewer, 404, f"{name} has no environment {env_name!r}")
        current = await session.get(Deployment, env.current_deployment_id or 0)
        if action == "redeploy":
            env.redeploy_needed = False
        audit(session, request, viewer.login, viewer.team.id, action, f"{name}/{env_name}", project.id)
    try:
        if action == "rollback":
            deployment_id = await rollback(web.sessions, name, env_name, actor=viewer.login)
        elif action == "destroy":
            if web.deploy is None:
                return refuse(request, viewer, 503, "this server runs no deploy target")
            service = web.deploy
            await destroy_environment(web.sessions, service.target, service.sink, name, env_name)
            return RedirectResponse(f"/projects/{name}", 303)
        else:
            if current is None:
                return refuse(request, viewer, 409, f"{env_name} has nothing deployed to redeploy")
            deployment_id = await queue_deployment(
                web.sessions,
                name,
                env_name,
                trigger="web",
                actor=viewer.login,
                source=current.source,
                commit_sha=current.commit_sha,
                ref=current.ref,
                commit_message=current.commit_message,
                commit_time=current.commit_time,
            )
    except OperationError as exc:
        return refuse(request, viewer, 409, str(exc))
    return await _enqueue(request, deployment_id)


async def redeploy(request: Request, viewer: Viewer) -> Response:
    """Build the environment's current commit again (e.g. after an env var change)."""
    return await _environment_action(request, viewer, "redeploy")


async def rollback_action(request: Request, viewer: Viewer) -> Response:
    """Put the previous live build back."""
    return await _environment_action(request, viewer, "rollback")


async def destroy(request: Request, viewer: Viewer) -> Response:
    """Stop the environment's app and mark it destroyed."""
    return await _environment_action(request, viewer, "destroy")


async def promote_action(request: Request, viewer: Viewer) -> Response:
    """Put this (preview) deployment's build into production."""
    found = await _deployment(request, viewer)
    if found is None:
        return refuse(request, viewer, 404, "no such deployment")
    web = web_state(request)
    try:
        deployment_id = await promote(web.sessions, found[0].id, actor=viewer.login)
    except OperationError as exc:
        return refuse(request, viewer, 409, str(exc))
    async with web.sessions.begin() as session:
        audit(
            session,
            request,
            viewer.login,
            viewer.team.id,
            "promote",
            f"deployment {found[0].id}",
            found[1].id,
        )
    return await _enqueue(request, deployment_id)


_ENV = "/projects/{name}/environments/{env}"
routes = [
    page("/deployments/{id:int}", deployment_page, "deployments.view"),
    page("/deployments/{id:int}/events", deployment_events, "deployments.view"),
    page("/deployments/{id:int}/promote", promote_action, "deployments.promote", ("POST",)),
    page(f"{_ENV}/redeploy", redeploy, "deployments.redeploy", ("POST",)),
    page(f"{_ENV}/rollback", rollback_action, "deployments.rollback", ("POST",)),
    page(f"{_ENV}/destroy", destroy, "environments.destroy", ("POST",)),
]
