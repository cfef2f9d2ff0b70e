"""The JSON API's environment variables: list (secret values never returned), set, delete."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.api.routes import PROJECT, api, json_object
from bot.web.context import ActionError, Viewer, viewers_project, web_state
from bot.web.envvars import delete_env_var, set_env_vars
from store import envvars as stored
from store.encryption import env_var_context

_SET_BODY = {
    "type": "object",
    "properties": {
        "value": {"type": "string"},
        "scope": {"enum": ["all", "production", "preview", "branch"], "default": "all"},
        "secret": {"type": "boolean", "default": False},
    },
    "required": ["value"],
}


async def list_env(request: Request, viewer: Viewer) -> Response:
    """A project's variables; secret values are never returned."""
    web = web_state(request)
    project = await viewers_project(request, viewer, request.path_params["name"], "this key's team")
    rows = await stored.variables(web.sessions, project.id)
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
    body = await json_object(request)
    if not isinstance(body.get("value"), str):
        raise ActionError(
            400, 'send {"value": "<text>", "scope": "all|production|preview|branch", "secret": bool}'
        )
    key, scope = request.path_params["key"], str(body.get("scope", "all"))
    await set_env_vars(
        request, viewer, request.path_params["name"], [(key, body["value"])], scope, bool(body.get("secret"))
    )
    return JSONResponse({"key": key, "scope": scope})


async def delete_env(request: Request, viewer: Viewer) -> Response:
    """Delete one variable; ?scope= picks one when the key is set in several scopes."""
    key = request.path_params["key"]
    scope = await delete_env_var(
        request, viewer, request.path_params["name"], key, request.query_params.get("scope") or None
    )
    return JSONResponse({"deleted": key, "scope": scope})


routes = [
    api(f"{PROJECT}/env", list_env, "env.view", "GET", "List variables (secret values omitted)"),
    api(f"{PROJECT}/env/{{key}}", put_env, "env.write", "PUT", "Set a variable", body=_SET_BODY),
    api(
        f"{PROJECT}/env/{{key}}",
        delete_env,
        "env.write",
        "DELETE",
        "Delete a variable (?scope= when it is set in several scopes)",
    ),
]
