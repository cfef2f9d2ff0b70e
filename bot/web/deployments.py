"""A deployment's page with its live log (Server-Sent Events), and the deploy action buttons:
redeploy, rollback, promote, destroy (deploy_actions, shared with the JSON API)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse

from bot.archive.logs import read_log
from bot.deploy_service import DeployService, follow
from bot.web.confirm import confirm_destroy, confirm_rollback, confirmed
from bot.web.context import ActionError, Viewer, page, refuse, render, team_deployment, web_state
from bot.web.deploy_actions import environment_action, promote_deployment
from bot.web.log_view import group_lines, render_text
from bot.web.roles import deploy_permission
from bot.web.timeline import timeline
from deployer.state import IN_PROGRESS, error_line
from store.db import reading
from store.deployment_history import newest_of_environment, previous_live
from store.models import Deployment, Project, utcnow

LOG_TAIL = 2000


async def viewable_deployment(
    request: Request, viewer: Viewer, deployment_id: int | None = None
) -> tuple[Deployment, Project] | None:
    """The deployment in the path (or `deployment_id`) and its project, if the viewer's team sees it."""
    async with reading(web_state(request).sessions) as tx:
        return await team_deployment(tx, viewer, deployment_id or request.path_params["id"])


async def deployment_page(request: Request, viewer: Viewer) -> Response:
    """Phases, timing, commit link and the log so far; the page script follows the rest."""
    found = await viewable_deployment(request, viewer)
    if found is None:
        return refuse(request, viewer, 404, f"no deployment {request.path_params['id']} in your team")
    deployment, project = found
    state = web_state(request)
    lines = await read_log(state.sessions, deployment.id, state.settings.retention, limit=LOG_TAIL)
    phases = dict(deployment.phases or {})
    running = deployment.state in IN_PROGRESS
    retryable = deployment.state in ("failed", "cancelled") and viewer.may(
        deploy_permission(deployment.environment, "redeploy")
    )
    return render(
        request,
        "deployment.html",
        viewer,
        deployment=deployment,
        project=project,
        lines=lines,
        groups=group_lines(phases, lines),
        error_line=error_line(phases),
        timeline=timeline(phases, deployment.created_at, utcnow()),
        previous=await previous_live(state.sessions, deployment),
        may_cancel=running and viewer.may(deploy_permission(deployment.environment, "cancel")),
        may_retry=retryable
        and await newest_of_environment(state.sessions, deployment.environment_id) == deployment.id,
    )


async def deployment_log_text(request: Request, viewer: Viewer) -> Response:
    """The whole log as text/plain (stored masked), with phase headers and times."""
    found = await viewable_deployment(request, viewer)
    if found is None:
        return refuse(request, viewer, 404, f"no deployment {request.path_params['id']} in your team")
    deployment = found[0]
    state = web_state(request)
    lines = await read_log(state.sessions, deployment.id, state.settings.retention)
    return PlainTextResponse(
        render_text(dict(deployment.phases or {}), lines),
        headers={"content-disposition": f'attachment; filename="deployment-{deployment.id}.log"'},
    )


async def _sse(service: DeployService, deployment_id: int, after: int) -> AsyncIterator[bytes]:
    # the NDJSON stream of the deploy API, re-framed as SSE events named by their type
    async for raw in follow(service, deployment_id):
        event = orjson.loads(raw)
        if event["type"] == "log" and event["seq"] <= after:
            continue
        yield b"event: " + event["type"].encode() + b"\ndata: " + raw.rstrip(b"\n") + b"\n\n"


async def deployment_events(request: Request, viewer: Viewer) -> Response:
    """The live log as Server-Sent Events, from after ?after=<seq> until the deployment ends."""
    found = await viewable_deployment(request, viewer)
    service = web_state(request).deploy
    if found is None or service is None:
        return refuse(request, viewer, 404, "no such deployment")
    after = int(request.query_params.get("after", "0") or 0)
    return StreamingResponse(
        _sse(service, found[0].id, after),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


async def _environment_action(request: Request, viewer: Viewer, action: str) -> Response:
    name, env_name = request.path_params["name"], request.path_params["env"]
    try:
        deployment_id = await environment_action(request, viewer, name, env_name, action)
    except ActionError as exc:
        return refuse(request, viewer, exc.status, str(exc))
    if deployment_id is None:
        return RedirectResponse(f"/projects/{name}", 303)
    return RedirectResponse(f"/deployments/{deployment_id}", 303)


async def redeploy(request: Request, viewer: Viewer) -> Response:
    """Build the environment's current commit again (e.g. after an env var change)."""
    return await _environment_action(request, viewer, "redeploy")


async def rollback_action(request: Request, viewer: Viewer) -> Response:
    """Put the previous live build back, once the confirmation page was answered."""
    if not await confirmed(request):
        return await confirm_rollback(request, viewer)
    return await _environment_action(request, viewer, "rollback")


async def destroy(request: Request, viewer: Viewer) -> Response:
    """Stop the environment's app and mark it destroyed, once the confirmation page was answered."""
    if not await confirmed(request):
        return await confirm_destroy(request, viewer)
    return await _environment_action(request, viewer, "destroy")


async def promote_action(request: Request, viewer: Viewer) -> Response:
    """Put this (preview) deployment's build into production."""
    try:
        deployment_id = await promote_deployment(request, viewer, request.path_params["id"])
    except ActionError as exc:
        return refuse(request, viewer, exc.status, str(exc))
    return RedirectResponse(f"/deployments/{deployment_id}", 303)


_ENV = "/projects/{name}/environments/{env}"
routes = [
    page("/deployments/{id:int}", deployment_page, "deployments.view"),
    page("/deployments/{id:int}/events", deployment_events, "deployments.view"),
    page("/deployments/{id:int}/log.txt", deployment_log_text, "deployments.view"),
    page("/deployments/{id:int}/promote", promote_action, "deployments.promote", ("POST",)),
    page(f"{_ENV}/redeploy", redeploy, "deployments.redeploy", ("POST",)),
    page(f"{_ENV}/rollback", rollback_action, "deployments.rollback", ("GET", "POST")),
    page(f"{_ENV}/destroy", destroy, "environments.destroy", ("GET", "POST")),
]
