"""The deploy actions shared by the page's buttons and the JSON API: redeploy, rollback, promote
and destroy, with the same permissions as the pull-request commands, each in the activity log."""

from __future__ import annotations

from starlette.requests import Request

from bot.web.context import ActionError, Viewer, WebState, actor, team_deployment, team_project, web_state
from bot.web.roles import deploy_permission
from deployer.operations import OperationError, destroy_environment, promote, queue_deployment, rollback
from store.activity import record_change
from store.db import reading, transaction
from store.envvars import clear_redeploy_needed
from store.models import Environment
from store.project_pages import deployment_by_id, environment_named

ACTIONS = ("redeploy", "rollback", "destroy")


async def _queued(web: WebState, deployment_id: int) -> int:
    if web.deploy is not None:
        await web.deploy.enqueue(deployment_id)
    return deployment_id


async def _redeploy(web: WebState, viewer: Viewer, name: str, env: Environment) -> int:
    async with reading(web.sessions) as tx:
        current = await deployment_by_id(tx, env.current_deployment_id or 0)
    if current is None:
        raise ActionError(409, f"{env.name} has nothing deployed to redeploy")
    return await queue_deployment(
        web.sessions,
        name,
        env.name,
        trigger="web",
        actor=viewer.login,
        source=current.source,
        commit_sha=current.commit_sha,
        ref=current.ref,
        commit_message=current.commit_message,
        commit_time=current.commit_time,
    )


async def environment_action(
    request: Request, viewer: Viewer, name: str, env_name: str, action: str, to_deployment: int | None = None
) -> int | None:
    """Redeploy, roll back (to `to_deployment` or the previous live build) or destroy an
    environment; return the queued deployment's id (None for destroy). Production needs admin."""
    needed = "environments.destroy" if action == "destroy" else deploy_permission(env_name, action)
    if not viewer.may(needed):
        raise ActionError(403, f"{action} of {env_name} needs the admin role (yours: {viewer.role})")
    web = web_state(request)
    async with reading(web.sessions) as tx:
        project = await team_project(tx, viewer, name)
        env = await environment_named(tx, project.id, env_name) if project is not None else None
    if project is None or env is None:
        raise ActionError(404, f"{name} has no environment {env_name!r}")
    deployment_id: int | None = None
    try:
        if action == "rollback":
            deployment_id = await rollback(web.sessions, name, env_name, to_deployment, actor=viewer.login)
        elif action == "destroy":
            if web.deploy is None:
                raise ActionError(503, "this server runs no deploy target")
            await destroy_environment(
                web.sessions, web.deploy.target, web.deploy.sink, name, env_name, stops=web.deploy.stops
            )
        else:
            deployment_id = await _redeploy(web, viewer, name, env)
    except OperationError as exc:
        raise ActionError(409, str(exc)) from exc
    async with transaction(web.sessions) as tx:
        if action == "redeploy":
            await clear_redeploy_needed(tx, env.id)
        details = {"deployment": deployment_id} if deployment_id is not None else {}
        await record_change(tx, actor(request, viewer), action, f"{name}/{env_name}", project.id, **details)
    return await _queued(web, deployment_id) if deployment_id is not None else None


async def promote_deployment(request: Request, viewer: Viewer, deployment_id: int) -> int:
    """Queue this (preview) deployment's build into production; return the new deployment's id."""
    web = web_state(request)
    async with reading(web.sessions) as tx:
        found = await team_deployment(tx, viewer, deployment_id)
    if found is None:
        raise ActionError(404, f"no deployment {deployment_id} in your team")
    project = found[1]
    try:
        promoted = await promote(web.sessions, deployment_id, actor=viewer.login)
    except OperationError as exc:
        raise ActionError(409, str(exc)) from exc
    async with transaction(web.sessions) as tx:
        await record_change(
            tx,
            actor(request, viewer),
            "promote",
            f"deployment {deployment_id}",
            project.id,
            deployment=promoted,
        )
    return await _queued(web, promoted)
