"""The "compare with previous" page: a deployment against the earlier live one of its
environment (or `?with=<id>` of the same project): commits, plan, variable names, time."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.web.comparison import compare_url, config_changes, name_changes, time_apart
from bot.web.context import Viewer, page, refuse, render, web_state
from bot.web.deployments import viewable_deployment
from deployer.pipeline import env_scope
from store.deployment_history import env_changes_between, environment_of, previous_live
from store.models import Deployment


async def _other(request: Request, viewer: Viewer, deployment: Deployment) -> Deployment | str | None:
    """The deployment to compare with; a message when `?with=` names none of this project's."""
    chosen = request.query_params.get("with", "").strip()
    if not chosen:
        return await previous_live(web_state(request).sessions, deployment)
    if not chosen.isdigit() or len(chosen) > 18:
        return f"?with={chosen} is not a deployment number"
    found = await viewable_deployment(request, viewer, int(chosen))
    if found is None or found[0].project_id != deployment.project_id:
        return f"no deployment {chosen} of this project in your team"
    return found[0]


async def compare_page(request: Request, viewer: Viewer) -> Response:
    """What changed from the earlier deployment to this one; never a variable's value."""
    found = await viewable_deployment(request, viewer)
    if found is None:
        return refuse(request, viewer, 404, f"no deployment {request.path_params['id']} in your team")
    deployment, project = found
    other = await _other(request, viewer, deployment)
    if isinstance(other, str):
        return refuse(request, viewer, 404, other)
    values: dict[str, object] = {"deployment": deployment, "project": project, "other": other}
    if other is not None:
        before, after = sorted((other, deployment), key=lambda d: d.id)
        environment = await environment_of(web_state(request).sessions, deployment)
        scopes = env_scope(environment) if environment is not None else ("all",)
        changes = await env_changes_between(
            web_state(request).sessions, project.id, scopes, before.created_at, after.created_at
        )
        values.update(
            before=before,
            after=after,
            compare_url=compare_url(project.full_name, before.commit_sha, after.commit_sha),
            config=config_changes(before.config or {}, after.config or {}),
            plans_known=bool(before.config) and bool(after.config),
            names=name_changes(changes),
            scopes=scopes,
            apart=time_apart(after.created_at - before.created_at),
        )
    return render(request, "compare.html", viewer, 200, **values)


routes = [page("/deployments/{id:int}/compare", compare_page, "deployments.view")]
