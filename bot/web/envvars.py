"""A project's environment variables: list (secrets masked), add, bulk paste of `.env`, delete
(the changes shared with the JSON API).

A secret's value is write-only: it is never decrypted for the page. A change marks the
environments it applies to "redeploy needed", and the page offers the redeploy.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.web.context import ActionError, Viewer, actor, page, refuse, render, viewers_project, web_state
from deployer import envvars as deployer_envvars
from deployer.envvars import SCOPES, EnvVarError, name_problem
from store import envvars as stored
from store.encryption import env_var_context


class DotenvError(ValueError):
    """Pasted `.env` text with a line that is not KEY=VALUE."""


def parse_dotenv(text: str) -> list[tuple[str, str]]:
    """KEY=VALUE pairs of pasted `.env` text; comments, blanks, `export ` and quotes allowed."""
    pairs: list[tuple[str, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not key.strip():
            # the line number only: the line itself may hold a secret
            raise DotenvError(f"line {number} is not KEY=VALUE")
        problem = name_problem(key.strip())
        if problem is not None:
            raise DotenvError(f'line {number}: "{key.strip()[:60]}" — {problem}')
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        pairs.append((key.strip(), value))
    return pairs


async def env_page(
    request: Request,
    viewer: Viewer,
    error: str | None = None,
    status: int = 200,
    typed: dict[str, str] | None = None,
) -> Response:
    """The variables (secret values never shown) and the environments waiting for a redeploy;
    after a refused change, `typed` fills the forms again with what was sent."""
    web = web_state(request)
    try:
        project = await viewers_project(request, viewer, request.path_params["name"])
    except ActionError as exc:
        return refuse(request, viewer, 404, str(exc))
    rows = await stored.variables(web.sessions, project.id)
    stale = await stored.stale_environments(web.sessions, project.id)
    shown = [
        (
            row,
            None
            if row.secret
            else web.keyring.decrypt(
                row.key_id, row.ciphertext, env_var_context(project.id, row.key, row.scope)
            ),
        )
        for row in rows
    ]
    return render(
        request,
        "envvars.html",
        viewer,
        status=status,
        project=project,
        rows=shown,
        stale=stale,
        scopes=SCOPES,
        error=error,
        typed=typed or {},
    )


async def set_env_vars(
    request: Request, viewer: Viewer, name: str, pairs: list[tuple[str, str]], scope: str, secret: bool
) -> None:
    """Add or replace variables in one scope (page and API); all or none are stored."""
    web = web_state(request)
    project = await viewers_project(request, viewer, name)
    try:
        await deployer_envvars.set_env_vars(
            web.sessions,
            web.keyring,
            project.id,
            pairs,
            scope=scope,
            secret=secret,
            by=actor(request, viewer),
        )
    except EnvVarError as exc:
        raise ActionError(400, str(exc)) from exc


async def delete_env_var(request: Request, viewer: Viewer, name: str, key: str, scope: str | None) -> str:
    """Remove one variable (page and API); without `scope` the key's only one. Returns its scope."""
    web = web_state(request)
    project = await viewers_project(request, viewer, name)
    try:
        return await stored.delete_variable(web.sessions, project.id, key, scope, by=actor(request, viewer))
    except stored.VariableMissing as exc:
        raise ActionError(404, f"{name} has {exc}") from exc
    except stored.ScopeNeeded as exc:
        raise ActionError(409, str(exc)) from exc


async def _answer(
    request: Request, viewer: Viewer, error: ActionError, typed: dict[str, str] | None = None
) -> Response:
    if error.status == 404 and error.args[0].startswith("no project"):
        return refuse(request, viewer, 404, str(error))
    return await env_page(request, viewer, str(error), error.status, typed)


def _typed(form: FormData, secret: bool) -> dict[str, str]:
    # the pasted text and the name come back; a secret value is not sent back to the browser
    kept = {name: str(form.get(name, "")) for name in ("key", "scope", "form")}
    if not secret:
        kept["value"], kept["bulk"] = str(form.get("value", "")), str(form.get("bulk", ""))
    return kept


async def env_set(request: Request, viewer: Viewer) -> Response:
    """Add or replace variables: one (key, value) or a pasted `.env` block, in one scope."""
    form = await request.form()
    scope, secret = str(form.get("scope", "all")), form.get("secret") == "on"
    try:
        pairs = (
            parse_dotenv(str(form["bulk"]))
            if form.get("bulk")
            else [(str(form.get("key", "")).strip(), str(form.get("value", "")))]
        )
        await set_env_vars(request, viewer, request.path_params["name"], pairs, scope, secret)
    except DotenvError as exc:
        again = "; the text marked secret is not sent back: paste it again" if secret else ""
        return await env_page(request, viewer, f"{exc}{again}", 400, _typed(form, secret))
    except ActionError as exc:
        return await _answer(request, viewer, exc, _typed(form, secret))
    return RedirectResponse(f"/projects/{request.path_params['name']}/env", 303)


async def env_delete(request: Request, viewer: Viewer) -> Response:
    """Remove one variable (key and scope)."""
    form = await request.form()
    key, scope = str(form.get("key", "")), str(form.get("scope", "")) or None
    try:
        await delete_env_var(request, viewer, request.path_params["name"], key, scope)
    except ActionError as exc:
        return await _answer(request, viewer, exc)
    return RedirectResponse(f"/projects/{request.path_params['name']}/env", 303)


async def env_view(request: Request, viewer: Viewer) -> Response:
    """GET handler of the variables page."""
    return await env_page(request, viewer)


routes = [
    page("/projects/{name}/env", env_view, "env.view"),
    page("/projects/{name}/env/set", env_set, "env.write", ("POST",)),
    page("/projects/{name}/env/delete", env_delete, "env.write", ("POST",)),
]
