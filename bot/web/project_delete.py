"""Deleting a project from the page: the owner of the action types the project's name, every
active environment is destroyed the way a single destroy does it, then the project's rows go."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.web.confirm import confirmed
from bot.web.context import ActionError, Viewer, actor, owned_project, page, refuse, render, web_state
from deployer.operations import OperationError, destroy_environment
from store.activity import record_change
from store.db import reading, transaction
from store.project_pages import active_environments
from store.project_removal import remove_project


def _confirm_page(
    request: Request, viewer: Viewer, name: str, error: str | None, status: int = 200
) -> Response:
    return render(
        request,
        "confirm.html",
        viewer,
        status=status,
        title=f"Delete {name}?",
        lines=[
            "This destroys every environment of the project, then removes its deployments, "
            "logs, variables and domains. It cannot be undone.",
            "The activity log keeps its entries.",
        ],
        button="Delete project",
        action=f"/projects/{name}/delete",
        back=f"/projects/{name}",
        error=error,
        type_to_confirm=name,
    )


async def delete_project(request: Request, viewer: Viewer, name: str) -> int:
    """Destroy the project's active environments, remove it and log it; return how many
    environments were destroyed."""
    web = web_state(request)
    async with reading(web.sessions) as tx:
        project = await owned_project(tx, viewer, name)
        active = await active_environments(tx, project.id)
    if active and web.deploy is None:
        raise ActionError(503, "this server runs no deploy target to stop the project's apps")
    for env_name in active:
        assert web.deploy is not None
        try:
            await destroy_environment(
                web.sessions, web.deploy.target, web.deploy.sink, name, env_name, stops=web.deploy.stops
            )
        except OperationError as exc:
            raise ActionError(409, str(exc)) from exc
    async with transaction(web.sessions) as tx:
        hostnames = await remove_project(tx, project.id)
        await record_change(tx, actor(request, viewer), "project.delete", name, None, environments=active)
    if web.routing is not None:
        for hostname in hostnames:
            web.routing.remove(hostname)
    return len(active)


async def delete_action(request: Request, viewer: Viewer) -> Response:
    """GET: the page asking for the name; POST: delete when the typed name matches."""
    name = request.path_params["name"]
    async with reading(web_state(request).sessions) as tx:
        try:
            await owned_project(tx, viewer, name)
        except ActionError as exc:
            return refuse(request, viewer, exc.status, str(exc))
    if not await confirmed(request):
        return _confirm_page(request, viewer, name, None)
    typed = str((await request.form()).get("confirm_name", "")).strip()
    if typed != name:
        shown = f"“{typed}”" if typed else "nothing"
        return _confirm_page(
            request,
            viewer,
            name,
            f"you typed {shown}; type the project name {name} exactly to delete it",
            400,
        )
    try:
        await delete_project(request, viewer, name)
    except ActionError as exc:
        return refuse(request, viewer, exc.status, str(exc))
    return RedirectResponse("/", 303)


routes = [page("/projects/{name}/delete", delete_action, "projects.delete", ("GET", "POST"))]
