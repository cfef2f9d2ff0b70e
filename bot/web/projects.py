"""The projects list and a project's page: environments, deployments (filtered), actions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.web.context import Viewer, page, refuse, render, team_project, web_state
from bot.web.project_list import SORTS, project_rows, sort_rows
from bot.web.states import icon, shown_state
from deployer.app_state import TROUBLED
from deployer.state import IN_PROGRESS, TERMINAL
from store import app_states, project_pages
from store.db import reading

PAGE_SIZE = 50
# a page of rows, as the other dashboards show: 500 rows took 50 ms to render (escaping cells)
LIST_PAGE = 50
STATES = (*IN_PROGRESS, *TERMINAL)


def _page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


async def projects(request: Request, viewer: Viewer) -> Response:
    """The team's projects with production URL and newest deployment, LIST_PAGE at a time;
    ?q= searches the names, ?sort= orders by name, last deploy or state (works without JS)."""
    search = request.query_params.get("q", "").strip()[:100]
    sort = request.query_params.get("sort", "name")
    async with reading(web_state(request).sessions) as tx:
        rows = sort_rows(await project_rows(tx, viewer.team, search), sort)
    pages = max(1, -(-len(rows) // LIST_PAGE))
    number = min(_page_number(request.query_params.get("page")), pages)
    first = (number - 1) * LIST_PAGE
    return render(
        request,
        "projects.html",
        viewer,
        rows=rows[first : first + LIST_PAGE],
        total=len(rows),
        first=first,
        number=number,
        pages=pages,
        q=search,
        sort=sort,
        sorts=SORTS,
        icon=icon,
    )


async def project(request: Request, viewer: Viewer) -> Response:
    """A project's environments and its deployments, filtered by ?environment= and ?state=."""
    environment = request.query_params.get("environment") or None
    state = request.query_params.get("state") or None
    async with reading(web_state(request).sessions) as tx:
        found = await team_project(tx, viewer, request.path_params["name"])
        if found is None:
            return refuse(request, viewer, 404, f"no project {request.path_params['name']!r} in your team")
        environments = await project_pages.environments_of(tx, found.id)
        deployments = await project_pages.recent_deployments(
            tx, found.id, PAGE_SIZE, environment, state if state in STATES else None
        )
    by_id = {env.id: env for env in environments}
    known = await app_states.current(web_state(request).sessions, by_id)
    # a live build's app in trouble (crashed, restarting, unhealthy) shows that instead of live
    apps = {env.id: app_states.shown(known.get(env.id), env.current_deployment_id) for env in environments}
    states = {
        d.id: shown_state(
            d.state,
            by_id[d.environment_id].state if d.environment_id in by_id else None,
            d.environment_id in by_id and by_id[d.environment_id].current_deployment_id == d.id,
        )
        for d in deployments
    }
    return render(
        request,
        "project.html",
        viewer,
        project=found,
        environments=environments,
        apps=apps,
        troubled=TROUBLED,
        deployments=deployments,
        shown=states,
        icon=icon,
        states=STATES,
        environment=environment,
        state=state,
    )


routes = [
    page("/", projects, "projects.view"),
    page("/projects/{name}", project, "projects.view"),
]
