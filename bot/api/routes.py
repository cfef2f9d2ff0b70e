"""The one JSON API, for the page's scripts, the CLI and anyone's: bearer API keys (hashed,
scoped to a team, checked by the deploy API's `authenticate`), the pages' role table, an
OpenAPI document.

The resources live in bot.api.deploys, uploads, env and domains; each route is made by
`api()`, which checks the key and the role and turns an ActionError into {"error": "..."}.
The role is checked before the project is looked up, so a refusal (403) says nothing about
which projects exist; another team's project is then answered exactly like a missing one (404)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.deploy_service import authenticate
from bot.web.context import ActionError, PermissionRoute, Viewer, web_state
from store import teams
from store.db import reading
from store.models import Team
from store.projects import team_projects

ApiHandler = Callable[[Request, Viewer], Awaitable[Response]]
_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "AutoStack API", "version": "1"},
    "paths": {},
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "properties": {"error": {"type": "string", "description": "what was wrong"}},
                "required": ["error"],
            }
        },
    },
    "security": [{"bearer": []}],
}


def error(status: int, message: str) -> JSONResponse:
    """A JSON error answer: {"error": message}."""
    return JSONResponse({"error": message}, status_code=status)


async def json_object(request: Request, required: bool = True) -> dict[str, Any]:
    """The request's JSON object body ({} when optional and empty); ActionError 400 otherwise."""
    raw = await request.body()
    if not raw.strip() and not required:
        return {}
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ActionError(400, "the body must be a JSON object")
    return body


async def _viewer(request: Request) -> Viewer | None:
    web = web_state(request)
    if web.deploy is None:
        return None
    holder = await authenticate(request, web.deploy)
    if holder is None:
        return None
    if holder.team_id is None:
        # the local admin token speaks for the local team, which sees every project
        return Viewer(-1, f"api:{holder.name}", Team(name="local"), holder.role)
    team = await teams.team_by_id(web.sessions, holder.team_id)
    return Viewer(-1, f"api:{holder.name}", team, holder.role) if team is not None else None


def _operation(
    path: str, permission: str, summary: str, body: dict[str, Any] | None, body_type: str, status: int
) -> dict[str, Any]:
    names = re.findall(r"\{([^}:]+)(?::[^}]+)?\}", path)
    operation: dict[str, Any] = {
        "summary": summary,
        "x-autostack-permission": permission,
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in names
        ],
        "responses": {
            str(status): {"description": "OK"},
            **{
                str(code): {"description": text, "content": _ERROR}
                for code, text in (
                    (400, "the request is malformed; the error says how"),
                    (401, "no or unknown API key"),
                    (403, "the key's role may not do this"),
                    (404, "no such project, environment, deployment, variable or domain"),
                    (409, "the change conflicts with the current state"),
                )
            },
        },
    }
    if body is not None:
        operation["requestBody"] = {"content": {body_type: {"schema": body}}}
    return operation


def api(
    path: str,
    handler: ApiHandler,
    permission: str,
    method: str,
    summary: str,
    *,
    body: dict[str, Any] | None = None,
    body_type: str = "application/json",
    status: int = 200,
) -> PermissionRoute:
    """A JSON route checked like a page (token instead of cookie, no CSRF: no ambient credential)."""

    async def endpoint(request: Request) -> Response:
        viewer = await _viewer(request)
        if viewer is None:
            return error(
                401,
                "missing or unknown API key; pass it as 'Authorization: Bearer <key>' (keys are made "
                "on the team page; embedded, `serve` writes the local one to <data dir>/admin-token)",
            )
        if not viewer.may(permission):
            return error(403, f"this key's role ({viewer.role}) may not do this ({permission})")
        try:
            return await handler(request, viewer)
        except ActionError as exc:
            return error(exc.status, str(exc))

    spec_path = re.sub(r"\{([^}:]+):[^}]+\}", r"{\1}", path)
    SPEC["paths"].setdefault(spec_path, {})[method.lower()] = _operation(
        path, permission, summary, body, body_type, status
    )
    route = PermissionRoute(path, endpoint, methods=[method])
    route.permission = permission
    return route


async def list_projects(request: Request, viewer: Viewer) -> Response:
    """The team's projects."""
    async with reading(web_state(request).sessions) as tx:
        rows = await team_projects(tx, viewer.team)
    return JSONResponse([{"name": p.name, "repository": p.full_name} for p in rows])


async def openapi(request: Request) -> Response:
    """The OpenAPI document of this API."""
    return JSONResponse(SPEC)


PROJECT = "/api/v1/projects/{name}"
routes = [
    api("/api/v1/projects", list_projects, "projects.view", "GET", "List the team's projects"),
    Route("/api/v1/openapi.json", openapi),
]
