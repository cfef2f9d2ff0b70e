"""The projects list and a project's page: environments, deployments (filtered), actions."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from bot.web.context import Viewer, page, refuse, render, team_project, web_state
from bot.web.project_list import SORTS, project_rows, sort_rows
from bot.web.states import icon, shown_state
from deployer.app_state import TROUBLED
from deployer.state import IN_PROGRESS, TERMINAL
from store import app_states
from store.models import Deployment, Environment

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
    async with web_state(request).sessions() as session:
        rows = sort_rows(await project_rows(session, viewer.team, search), sort)
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
    async with web_state(request).sessions() as session:
        found = await team_project(session, viewer, request.path_params["name"])
        if found is None:
            return refuse(request, viewer, 404, f"no project {request.path_params['name']!r} in your team")
        environments = (
            await session.scalars(
                select(Environment)
                .where(Environment.project_id == found.id)
                .order_by(Environment.state != "active", Environment.kind != "production", Environment.name)
            )
        ).all()
        query = select(Deployment).where(Deployment.project_id == found.id)
        if environment:
            query = query.where(Deployment.environment == environment)
        if state in STATES:
            query = query.where(Deployment.state == state)
        if state == "ready":
            # as the rows say it: ready is a live build, not one replaced or destroyed since
            live = select(Environment.current_deployment_id).where(
                Environment.project_id == found.id, Environment.state == "active"
            )
            query = query.where(Deployment.id.in_(live))
        deployments = (
            await session.scalars(query.order_by(Deployment.created_at.desc()).limit(PAGE_SIZE))
        ).all()
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
