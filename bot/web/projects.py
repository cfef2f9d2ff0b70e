"""The projects list and a project's page: environments, deployments (filtered), actions."""

from __future__ import annotations

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response

from bot.web.context import Viewer, page, projects_of, refuse, render, team_project, web_state
from deployer.state import IN_PROGRESS, TERMINAL
from store.models import Deployment, Environment, Project

PAGE_SIZE = 50
STATES = (*IN_PROGRESS, *TERMINAL)


async def projects(request: Request, viewer: Viewer) -> Response:
    """Every project of the team with its production URL and last deployment's state."""
    latest = (
        select(Deployment.project_id, func.max(Deployment.id).label("last_id"))
        .group_by(Deployment.project_id)
        .subquery()
    )
    production = (
        select(Environment.project_id, Environment.url)
        .where(Environment.name == "production", Environment.state == "active")
        .subquery()
    )
    query = (
        select(Project.name, Project.full_name, production.c.url, Deployment.state, Deployment.created_at)
        .where(projects_of(viewer.team), Project.archived_at.is_(None))
        .outerjoin(latest, latest.c.project_id == Project.id)
        .outerjoin(Deployment, Deployment.id == latest.c.last_id)
        .outerjoin(production, production.c.project_id == Project.id)
        .order_by(Project.name)
    )
    async with web_state(request).sessions() as session:
        rows = (await session.execute(query)).all()
    return render(request, "projects.html", viewer, rows=rows)


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
                .where(Environment.project_id == found.id, Environment.state == "active")
                .order_by(Environment.kind != "production", Environment.name)
            )
        ).all()
        query = select(Deployment).where(Deployment.project_id == found.id)
        if environment:
            query = query.where(Deployment.environment == environment)
        if state in STATES:
            query = query.where(Deployment.state == state)
        deployments = (
            await session.scalars(query.order_by(Deployment.created_at.desc()).limit(PAGE_SIZE))
        ).all()
    return render(
        request,
        "project.html",
        viewer,
        project=found,
        environments=environments,
        deployments=deployments,
        states=STATES,
        environment=environment,
        state=state,
    )


routes = [
    page("/", projects, "projects.view"),
    page("/projects/{name}", project, "projects.view"),
]
