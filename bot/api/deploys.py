"""The JSON API's deployments: list them (a project's, or the whole team's), and the deploy
actions (redeploy, rollback, promote, destroy) with the permissions of the pull-request commands
and the page's buttons."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.api.routes import PROJECT, api, json_object
from bot.web.context import ActionError, Viewer, owned_project, team_project, web_state
from bot.web.deploy_actions import environment_action, promote_deployment
from deployer.app_state import LIVE
from store import app_states
from store.app_states import KnownState
from store.dashboard import team_deployments
from store.db import reading
from store.environment_names import PRODUCTION
from store.models import Deployment, Environment
from store.project_pages import environment_state, project_deployments

LIST_LIMIT = 50
_ROLLBACK_BODY = {
    "type": "object",
    "properties": {"deployment": {"type": "integer", "description": "default: the previous live one"}},
}


def _shown(d: Deployment, project: str, env: Environment, apps: dict[int, KnownState]) -> dict[str, Any]:
    # `live`: the build the environment serves now; `environment_state` says whether it was destroyed;
    # `app_state`: how the live build's app is doing (live, restarting, crashed, unhealthy)
    live = env.state == "active" and env.current_deployment_id == d.id
    app = app_states.shown(apps.get(env.id), d.id) if live else None
    return {
        "id": d.id,
        "project": project,
        "environment": d.environment,
        "state": d.state,
        "trigger": d.trigger,
        "commit": d.commit_sha,
        "framework": d.framework,
        "url": d.url,
        "reason": d.reason,
        "created_at": d.created_at.isoformat(),
        "finished_at": d.finished_at.isoformat() if d.finished_at else None,
        "build_seconds": d.build_seconds,
        "live": live,
        "environment_state": env.state,
        "app_state": (app.state if app else LIVE) if live else None,
        "app_state_since": app.since.isoformat() if app else None,
        "app_state_reason": app.reason if app else None,
    }


async def list_deployments(request: Request, viewer: Viewer) -> Response:
    """A project's latest 50 deployments."""
    async with reading(web_state(request).sessions) as tx:
        project = await owned_project(tx, viewer, request.path_params["name"], "this key's team")
        rows = await project_deployments(tx, project.id, LIST_LIMIT)
    apps = await app_states.current(web_state(request).sessions, (env.id for _, env in rows))
    return JSONResponse([_shown(d, project.name, env, apps) for d, env in rows])


async def list_team_deployments(request: Request, viewer: Viewer) -> Response:
    """The latest 50 deployments of all the team's projects (`autostack ls`)."""
    async with reading(web_state(request).sessions) as tx:
        rows = await team_deployments(tx, viewer.team, LIST_LIMIT)
    apps = await app_states.current(web_state(request).sessions, (env.id for _, _, env in rows))
    return JSONResponse([_shown(d, name, env, apps) for d, name, env in rows])


def _queued(request: Request, deployment_id: int, environment: str) -> Response:
    page = f"{web_state(request).settings.base_url}/deployments/{deployment_id}"
    return JSONResponse(
        {"deployment": deployment_id, "environment": environment, "state": "queued", "page": page},
        status_code=202,
    )


async def _on_environment(request: Request, viewer: Viewer, action: str, to: int | None = None) -> Response:
    name, env = request.path_params["name"], request.path_params["env"]
    deployment_id = await environment_action(request, viewer, name, env, action, to)
    if deployment_id is None:
        return JSONResponse({"destroyed": f"{name}/{env}"})
    return _queued(request, deployment_id, env)


async def redeploy(request: Request, viewer: Viewer) -> Response:
    """Build the environment's current commit again."""
    return await _on_environment(request, viewer, "redeploy")


async def rollback(request: Request, viewer: Viewer) -> Response:
    """Put an earlier live build back: {"deployment": N}, or the previous one without a body."""
    to = (await json_object(request, required=False)).get("deployment")
    if to is not None and (not isinstance(to, int) or isinstance(to, bool)):
        raise ActionError(400, f"deployment {to!r} is not a deployment number")
    return await _on_environment(request, viewer, "rollback", to)


async def destroy(request: Request, viewer: Viewer) -> Response:
    """Stop the environment's app and mark it destroyed; 409 when it already is."""
    name, env_name = request.path_params["name"], request.path_params["env"]
    async with reading(web_state(request).sessions) as tx:
        project = await team_project(tx, viewer, name)
        state = project and await environment_state(tx, project.id, env_name)
    if state == "destroyed":
        raise ActionError(409, f"{name}/{env_name} is already destroyed")
    return await _on_environment(request, viewer, "destroy")


async def promote(request: Request, viewer: Viewer) -> Response:
    """Put this (preview) deployment's build into production."""
    deployment_id = await promote_deployment(request, viewer, request.path_params["id"])
    return _queued(request, deployment_id, PRODUCTION)


_ENV = f"{PROJECT}/environments/{{env}}"
routes = [
    api(
        "/api/v1/deployments",
        list_team_deployments,
        "deployments.view",
        "GET",
        "List the team's latest deployments",
    ),
    api(
        f"{PROJECT}/deployments", list_deployments, "deployments.view", "GET", "List a project's deployments"
    ),
    api(f"{_ENV}/redeploy", redeploy, "deployments.redeploy", "POST", "Redeploy an environment", status=202),
    api(
        f"{_ENV}/rollback",
        rollback,
        "deployments.rollback",
        "POST",
        "Roll an environment back",
        body=_ROLLBACK_BODY,
        status=202,
    ),
    api(_ENV, destroy, "environments.destroy", "DELETE", "Destroy an environment"),
    api(
        "/api/v1/deployments/{id:int}/promote",
        promote,
        "deployments.promote",
        "POST",
        "Promote a deployment to production",
        status=202,
    ),
]
