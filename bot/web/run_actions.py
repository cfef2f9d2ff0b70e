"""Acting on one deployment from its page (and the JSON API): cancel it while it runs, build it
again when it failed. Production needs the admin role, previews a developer, as for redeploys."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.web.context import ActionError, Viewer, client_ip, page, refuse, web_state
from bot.web.deployments import viewable_deployment
from bot.web.roles import deploy_permission
from deployer.cancel import cancel_deployment
from deployer.operations import OperationError, queue_deployment
from store.activity import add_activity
from store.deployment_history import environment_of, newest_of_environment
from store.models import Deployment, Project

RETRYABLE = ("failed", "cancelled")


async def _allowed(request: Request, viewer: Viewer, action: str) -> tuple[Deployment, Project]:
    found = await viewable_deployment(request, viewer)
    if found is None:
        raise ActionError(404, f"no deployment {request.path_params['id']} in your team")
    deployment = found[0]
    if not viewer.may(deploy_permission(deployment.environment, action)):
        raise ActionError(
            403, f"{action} in {deployment.environment} needs the admin role (yours: {viewer.role})"
        )
    return found


async def _log(
    request: Request, viewer: Viewer, action: str, project: Project, env: str, **details: int
) -> None:
    await add_activity(
        web_state(request).sessions,
        actor=viewer.login,
        action=action,
        target=f"{project.name}/{env}",
        project_id=project.id,
        team_id=viewer.team.id,
        source_ip=client_ip(request),
        **details,
    )


async def cancel_run(request: Request, viewer: Viewer) -> Deployment:
    """Cancel the deployment in the path while it is queued, building or deploying."""
    deployment, project = await _allowed(request, viewer, "cancel")
    web = web_state(request)
    if web.deploy is None:
        raise ActionError(503, "this server runs no deploy target")
    try:
        await cancel_deployment(
            web.sessions, web.deploy.sink, deployment.id, viewer.login, stops=web.deploy.stops
        )
    except OperationError as exc:
        raise ActionError(409, str(exc)) from exc
    await _log(request, viewer, "cancel", project, deployment.environment, deployment=deployment.id)
    return deployment


async def redeploy_run(request: Request, viewer: Viewer) -> int:
    """Queue the failed (or cancelled) deployment's commit again; return the new deployment's id.
    Only the environment's newest one: an older failure would replace what came after it."""
    deployment, project = await _allowed(request, viewer, "redeploy")
    web = web_state(request)
    name = f"deployment {deployment.id}"
    if deployment.state not in RETRYABLE:
        raise ActionError(
            409,
            f"{name} is {deployment.state}; only a failed or cancelled deployment is redeployed "
            "from its page (the environment's Redeploy rebuilds what it serves)",
        )
    newest = await newest_of_environment(web.sessions, deployment.environment_id)
    if newest != deployment.id:
        raise ActionError(
            409, f"deployment {newest} is newer in {deployment.environment}; redeploy that one or roll back"
        )
    environment = await environment_of(web.sessions, deployment)
    if environment is None or environment.state == "destroyed":
        raise ActionError(409, f"{project.name}/{deployment.environment} was destroyed; deploy it anew")
    queued = await queue_deployment(
        web.sessions,
        project.name,
        deployment.environment,
        trigger="web",
        actor=viewer.login,
        source=deployment.source,
        commit_sha=deployment.commit_sha,
        ref=deployment.ref,
        pr_number=deployment.pr_number,
        commit_message=deployment.commit_message,
        commit_time=deployment.commit_time,
    )
    await _log(
        request, viewer, "redeploy", project, deployment.environment, deployment=queued, of=deployment.id
    )
    if web.deploy is not None:
        await web.deploy.enqueue(queued)
    return queued


async def cancel_action(request: Request, viewer: Viewer) -> Response:
    """The page's Cancel button: back to the deployment, now cancelled."""
    try:
        deployment = await cancel_run(request, viewer)
    except ActionError as exc:
        return refuse(request, viewer, exc.status, str(exc))
    return RedirectResponse(f"/deployments/{deployment.id}", 303)


async def redeploy_action(request: Request, viewer: Viewer) -> Response:
    """The page's Redeploy button on a failed deployment: on to the new one."""
    try:
        queued = await redeploy_run(request, viewer)
    except ActionError as exc:
        return refuse(request, viewer, exc.status, str(exc))
    return RedirectResponse(f"/deployments/{queued}", 303)


routes = [
    page("/deployments/{id:int}/cancel", cancel_action, "deployments.cancel", ("POST",)),
    page("/deployments/{id:int}/redeploy", redeploy_action, "deployments.redeploy", ("POST",)),
]
