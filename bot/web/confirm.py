"""The confirmation step before destroy, roll back and deleting a project: a page of its own
(works without JS), then the same form posted with `confirmed=yes`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.web.context import ActionError, Viewer, refuse, render, team_project, web_state
from bot.web.roles import deploy_permission
from deployer.operations import OperationError, rollback_target
from store.db import reading
from store.models import Deployment, Environment
from store.project_pages import deployment_by_id, environment_named


async def confirmed(request: Request) -> bool:
    """Whether this post comes from the confirmation page."""
    return request.method == "POST" and (await request.form()).get("confirmed") == "yes"


def _describe(deployment: Deployment | None) -> str:
    if deployment is None:
        return "nothing"
    line = (deployment.commit_message or "").split("\n", 1)[0][:60]
    sha = (deployment.commit_sha or "")[:7]
    return " ".join(part for part in (f"#{deployment.id}", sha, line and f"“{line}”") if part)


async def _environment(request: Request, viewer: Viewer) -> tuple[str, Environment]:
    name, env_name = request.path_params["name"], request.path_params["env"]
    async with reading(web_state(request).sessions) as tx:
        project = await team_project(tx, viewer, name)
        env = (
            await environment_named(tx, project.id, env_name, active_only=True)
            if project is not None
            else None
        )
    if env is None:
        raise ActionError(404, f"{name} has no active environment {env_name!r}")
    return name, env


async def confirm_destroy(request: Request, viewer: Viewer) -> Response:
    """Ask before destroying an environment: what stops and what stays."""
    try:
        name, env = await _environment(request, viewer)
    except ActionError as exc:
        return refuse(request, viewer, exc.status, str(exc))
    lines = [
        f"This stops {env.name} of {name}"
        + (f" ({env.url})" if env.url else "")
        + " and cancels its running deployments.",
        "Its deployments stay listed; a new push or /deploy makes the environment again.",
    ]
    return _page(request, viewer, f"Destroy {name}/{env.name}?", lines, "Destroy", name, env.name, "destroy")


async def confirm_rollback(request: Request, viewer: Viewer) -> Response:
    """Ask before a rollback, naming the live build and the one that comes back."""
    try:
        name, env = await _environment(request, viewer)
    except ActionError as exc:
        return refuse(request, viewer, exc.status, str(exc))
    if not viewer.may(deploy_permission(env.name, "rollback")):
        return refuse(
            request, viewer, 403, f"rollback of {env.name} needs the admin role (yours: {viewer.role})"
        )
    async with reading(web_state(request).sessions) as tx:
        current = await deployment_by_id(tx, env.current_deployment_id or 0)
        try:
            target = await rollback_target(tx, env)
        except OperationError as exc:
            return refuse(request, viewer, 409, str(exc))
    lines = [f"Live now: {_describe(current)}.", f"Comes back: {_describe(target)} (its build, not rebuilt)."]
    return _page(
        request, viewer, f"Roll back {name}/{env.name}?", lines, "Roll back", name, env.name, "rollback"
    )


def _page(
    request: Request,
    viewer: Viewer,
    title: str,
    lines: list[str],
    button: str,
    name: str,
    env_name: str,
    action: str,
) -> Response:
    return render(
        request,
        "confirm.html",
        viewer,
        title=title,
        lines=lines,
        button=button,
        action=f"/projects/{name}/environments/{env_name}/{action}",
        back=f"/projects/{name}",
        error=None,
        type_to_confirm=None,
    )
