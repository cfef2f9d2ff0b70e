"""The JSON API behind the page's actions, for scripts: bearer API keys (hashed, scoped to a
team, checked by the deploy API's `authenticate`), the same role table, an OpenAPI document."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.api_deploy import authenticate
from bot.web.context import Viewer, audit, projects_of, team_project, web_state
from bot.web.envvars import mark_stale
from deployer.envvars import EnvVarError, set_env_var
from store.encryption import env_var_context
from store.models import Deployment, Domain, EnvVar, Project, Team

ApiHandler = Callable[[Request, Viewer], Awaitable[Response]]
SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "AutoStack API", "version": "1"},
    "paths": {},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _viewer(request: Request) -> Viewer | None:
    web = web_state(request)
    if web.deploy is None:
        return None
    holder = await authenticate(request, web.deploy)
    if holder is None:
        return None
    async with web.sessions() as session:
        team = await session.get(Team, holder.team_id) if holder.team_id is not None else None
    # the local admin token speaks for the local team, which sees every project
    return Viewer(-1, f"api:{holder.name}", team or Team(name="local"), holder.role)


def api(path: str, handler: ApiHandler, permission: str, method: str, summary: str) -> Route:
    """A JSON route checked like a page (token instead of cookie, no CSRF: no ambient credential)."""

    async def endpoint(request: Request) -> Response:
        viewer = await _viewer(request)
        if viewer is None:
            return _error(401, "missing or unknown API key; pass it as 'Authorization: Bearer <key>'")
        if not viewer.may(permission):
            return _error(403, f"this key's role ({viewer.role}) may not do this ({permission})")
        return await handler(request, viewer)

    SPEC["paths"].setdefault(path, {})[method.lower()] = {
        "summary": summary,
        "x-autostack-permission": permission,
        "responses": {"200": {"description": "OK"}},
    }
    route = Route(path, endpoint, methods=[method])
    route.permission = permission  # type: ignore[attr-defined]
    return route


async def list_projects(request: Request, viewer: Viewer) -> Response:
    """The team's projects."""
    async with web_state(request).sessions() as session:
        rows = (
            await session.scalars(select(Project).where(projects_of(viewer.team)).order_by(Project.name))
        ).all()
    return JSONResponse([{"name": p.name, "repository": p.full_name} for p in rows])


async def list_deployments(request: Request, viewer: Viewer) -> Response:
    """A project's latest 50 deployments."""
    async with web_state(request).sessions() as session:
        project = await team_project(session, viewer, request.path_params["name"])
        if project is None:
            return _error(404, "no such project in this key's team")
        rows = (
            await session.scalars(
                select(Deployment)
                .where(Deployment.project_id == project.id)
                .order_by(Deployment.id.desc())
                .limit(50)
            )
        ).all()
    return JSONResponse(
        [
            {
                "id": d.id,
                "environment": d.environment,
                "state": d.state,
                "commit": d.commit_sha,
                "url": d.url,
                "created_at": d.created_at.isoformat(),
            }
            for d in rows
        ]
    )


async def list_env(request: Request, viewer: Viewer) -> Response:
    """A project's variables; secret values are never returned."""
    web = web_state(request)
    async with web.sessions() as session:
        project = await team_project(session, viewer, request.path_params["name"])
        if project is None:
            return _error(404, "no such project in this key's team")
        rows = (await session.scalars(select(EnvVar).where(EnvVar.project_id == project.id))).all()
    return JSONResponse(
        [
            {
                "key": r.key,
                "scope": r.scope,
                "secret": r.secret,
                "value": None
                if r.secret
                else web.keyring.decrypt(r.key_id, r.ciphertext, env_var_context(project.id, r.key, r.scope)),
            }
            for r in rows
        ]
    )


async def put_env(request: Request, viewer: Viewer) -> Response:
    """Set one variable: {"value": "...", "scope": "all", "secret": false}."""
    body = await request.json()
    if not isinstance(body, dict) or not isinstance(body.get("value"), str):
        return _error(
            400, 'send {"value": "<text>", "scope": "all|production|preview|branch", "secret": bool}'
        )
    web, key, scope = web_state(request), request.path_params["key"], str(body.get("scope", "all"))
    async with web.sessions.begin() as session:
        project = await team_project(session, viewer, request.path_params["name"])
        if project is None:
            return _error(404, "no such project in this key's team")
        try:
            await set_env_var(
                session,
                web.keyring,
                project.id,
                key,
                body["value"],
                scope=scope,
                secret=bool(body.get("secret")),
            )
        except EnvVarError as exc:
            await session.rollback()
            return _error(400, str(exc))
        audit(session, request, viewer.login, viewer.team.id, "env.set", key, project.id, scope=scope)
    await mark_stale(request, project, scope)
    return JSONResponse({"key": key, "scope": scope})


async def list_domains(request: Request, viewer: Viewer) -> Response:
    """A project's domains and their state."""
    async with web_state(request).sessions() as session:
        project = await team_project(session, viewer, request.path_params["name"])
        if project is None:
            return _error(404, "no such project in this key's team")
        rows = (await session.scalars(select(Domain).where(Domain.project_id == project.id))).all()
    return JSONResponse(
        [{"hostname": d.hostname, "environment": d.environment, "state": d.state} for d in rows]
    )


async def add_domain(request: Request, viewer: Viewer) -> Response:
    """Add a domain: {"hostname": "...", "environment": "production", "verification": "txt"}."""
    body = await request.json()
    hostname = str(body.get("hostname", "")).lower() if isinstance(body, dict) else ""
    async with web_state(request).sessions.begin() as session:
        project = await team_project(session, viewer, request.path_params["name"])
        if project is None:
            return _error(404, "no such project in this key's team")
        if await session.scalar(select(Domain.id).where(Domain.hostname == hostname)) or "." not in hostname:
            return _error(409, f"{hostname!r} is not a free domain name")
        token = secrets.token_hex(16)
        session.add(
            Domain(
                project_id=project.id,
                hostname=hostname,
                environment=str(body.get("environment", "production")),
                verification="cname" if body.get("verification") == "cname" else "txt",
                token=token,
            )
        )
        audit(session, request, viewer.login, viewer.team.id, "domain.add", hostname, project.id)
    return JSONResponse(
        {"hostname": hostname, "state": "pending", "txt": f"autostack-verify={token}"}, status_code=201
    )


async def openapi(request: Request) -> Response:
    """The OpenAPI document of this API."""
    return JSONResponse(SPEC)


_P = "/api/v1/projects/{name}"
routes = [
    api("/api/v1/projects", list_projects, "projects.view", "GET", "List the team's projects"),
    api(f"{_P}/deployments", list_deployments, "deployments.view", "GET", "List a project's deployments"),
    api(f"{_P}/env", list_env, "env.view", "GET", "List variables (secret values omitted)"),
    api(f"{_P}/env/{{key}}", put_env, "env.write", "PUT", "Set a variable"),
    api(f"{_P}/domains", list_domains, "domains.view", "GET", "List domains"),
    api(f"{_P}/domains", add_domain, "domains.write", "POST", "Add a domain"),
    Route("/api/v1/openapi.json", openapi),
]
