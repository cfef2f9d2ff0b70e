"""Deployment operations besides a fresh build: queue, rollback, promote, destroy, restore."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from deployer.app_env import EnvProvider, no_env
from deployer.builtins import builtin_variables, facts_of, with_builtins
from deployer.events import EnvironmentDestroyed, EventSink, Finished
from deployer.plan import Plan
from deployer.stops import IN_PROCESS, StopSignals, notify_all
from deployer.targets.base import Artifact, Site, Target, TargetError
from store import deployments, live_apps, supersede
from store.db import Sessions, Tx, reading, transaction
from store.deployments import add_deployment
from store.environment_names import PRODUCTION, environment_kind
from store.models import Deployment, Environment, Project
from store.upserts import get_or_create_environment, get_or_create_named_project

__all__ = [
    "RESTORE_CONCURRENCY",
    "OperationError",
    "add_deployment",
    "destroy_environment",
    "environment_for",
    "environment_kind",
    "promote",
    "queue_deployment",
    "restore",
    "rollback",
    "rollback_target",
]

# apps restored at once after a restart: enough to overlap health checks, few enough not to
# start a burst of installs on a two-core machine
RESTORE_CONCURRENCY = 4

log = logging.getLogger("autostack.deployer")


class OperationError(ValueError):
    """The operation cannot be done as asked; the message says why and what to do instead."""


async def environment_for(session: Tx, project: Project, name: str) -> Environment:
    """The project's environment called `name`, created (empty) if it does not exist yet."""
    return await get_or_create_environment(session, project.id, name, environment_kind(name))


async def queue_deployment(
    sessions: Sessions,
    project_name: str,
    environment: str,
    *,
    trigger: str,
    source: str | None = None,
    actor: str | None = None,
    commit_sha: str | None = None,
    source_deployment_id: int | None = None,
    delivery_id: str | None = None,
    ref: str | None = None,
    pr_number: int | None = None,
    commit_message: str | None = None,
    commit_time: datetime | None = None,
) -> int:
    """Create a queued deployment (and its project and environment if new); return its id.

    With a `delivery_id`, a second call for the same delivery returns the first deployment.
    """
    async with transaction(sessions) as tx:
        project = await get_or_create_named_project(tx, project_name)
        env = await environment_for(tx, project, environment)
        deployment = await add_deployment(
            tx,
            project,
            env,
            trigger=trigger,
            actor=actor,
            source=source,
            commit_sha=commit_sha,
            source_deployment_id=source_deployment_id,
            delivery_id=delivery_id,
            ref=ref,
            pr_number=pr_number if pr_number is not None else env.pr_number,
            commit_message=commit_message,
            commit_time=commit_time,
        )
        return deployment.id


async def rollback(
    sessions: Sessions,
    project_name: str,
    environment: str,
    to_deployment: int | None = None,
    *,
    actor: str | None = None,
    delivery_id: str | None = None,
) -> int:
    """Queue a deployment that puts an earlier build back into `environment`; no rebuild."""
    async with reading(sessions) as tx:
        env = await deployments.environment_named(tx, project_name, environment)
        if env is None:
            raise OperationError(f"{project_name} has no environment {environment!r}")
        chosen = await rollback_target(tx, env, to_deployment)
    return await _reuse(sessions, project_name, environment, chosen, "rollback", actor, delivery_id)


async def rollback_target(session: Tx, env: Environment, to_deployment: int | None = None) -> Deployment:
    """The build a rollback of `env` puts back: `to_deployment`, or the newest live build before
    the current one; OperationError saying why when there is none."""
    if to_deployment is not None:
        chosen = await deployments.live_build(session, env.id, to_deployment)
        if chosen is None:
            raise OperationError(
                f"deployment {to_deployment} never went live in {env.name}; pick one listed by `autostack ls`"
            )
        return chosen
    chosen = await deployments.previous_live_build(session, env)
    if chosen is None:
        raise OperationError(f"{env.name} has no earlier live deployment to roll back to")
    return chosen


async def promote(
    sessions: Sessions, deployment_id: int, *, actor: str | None = None, delivery_id: str | None = None
) -> int:
    """Queue a production deployment reusing the build of `deployment_id` (a preview)."""
    async with reading(sessions) as tx:
        found = await deployments.with_project(tx, deployment_id)
    if found is None or found[0].artifact is None or found[0].ready_at is None:
        raise OperationError(f"deployment {deployment_id} has no live build to promote")
    source, project = found
    return await _reuse(sessions, project.name, PRODUCTION, source, "promote", actor, delivery_id)


async def _reuse(
    sessions: Sessions,
    project_name: str,
    environment: str,
    source: Deployment,
    trigger: str,
    actor: str | None,
    delivery_id: str | None,
) -> int:
    """Queue a deployment of `source`'s commit that reuses its build instead of building again."""
    return await queue_deployment(
        sessions,
        project_name,
        environment,
        trigger=trigger,
        actor=actor,
        commit_sha=source.commit_sha,
        source_deployment_id=source.id,
        delivery_id=delivery_id,
        ref=source.ref,
        commit_message=source.commit_message,
        commit_time=source.commit_time,
    )


async def destroy_environment(
    sessions: Sessions,
    target: Target,
    sink: EventSink,
    project_name: str,
    environment: str,
    *,
    stops: StopSignals = IN_PROCESS,
) -> None:
    """Cancel the environment's running deployments (their runs signalled through `stops`),
    stop its app, mark it destroyed."""
    destroyed = await supersede.destroy_environment(sessions, project_name, environment)
    if destroyed is None:
        raise OperationError(f"{project_name} has no environment {environment!r}")
    await notify_all(stops, destroyed.cancelled)
    await target.destroy(project_name, environment)
    for deployment_id in destroyed.cancelled:
        await sink.emit(Finished(deployment_id, "cancelled", "cancelled", f"{environment} was destroyed"))
    await sink.emit(EnvironmentDestroyed(destroyed.project_id, environment))


async def restore(
    sessions: Sessions,
    target: Target,
    env_for: EnvProvider = no_env,
    *,
    concurrency: int = RESTORE_CONCURRENCY,
) -> list[str]:
    """Start every active environment's current build again (serve calls this at start-up).

    Environments start `concurrency` at a time, so fifteen apps do not wait on one another's
    health checks; the URLs come back in the order of the rows."""
    rows = await live_apps.restorable(sessions)
    gate = asyncio.Semaphore(concurrency)

    async def one(env: Environment, project: Project, deployment: Deployment) -> str | None:
        async with gate:
            return await _restore_one(sessions, target, env_for, env, project, deployment)

    urls = await asyncio.gather(*(one(env, project, deployment) for env, project, deployment in rows))
    return [url for url in urls if url is not None]


async def _restore_one(
    sessions: Sessions,
    target: Target,
    env_for: EnvProvider,
    env: Environment,
    project: Project,
    deployment: Deployment,
) -> str | None:
    site = Site(project.name, env.name, deployment.id)
    extra = {"deployment_id": deployment.id}

    async def quiet(_line: str) -> None:
        return None

    try:
        plan = Plan.from_snapshot(deployment.config)
        app_env = await env_for(project, env)
        url = target.url_for(project.name, env.name)
        builtins = builtin_variables(facts_of(url, project, env, deployment))
        release = await target.release(
            site,
            Artifact(deployment.artifact or ""),
            plan,
            {**plan.env, **with_builtins(app_env.values, builtins)[0]},
            quiet,
            secrets=app_env.secrets,
        )
        try:
            await target.health(release, plan, quiet)
        except TargetError:
            await release.stop()
            raise
        # a deploy went live while this one was starting: keep it
        if await live_apps.current_deployment_id(sessions, env.id) != deployment.id:
            await release.stop()
            return None
        await target.switch(site, release)
    except (TargetError, KeyError, TypeError) as exc:
        log.warning("could not restore %s/%s: %s", project.name, env.name, exc, extra=extra)
        return None
    return target.url_for(project.name, env.name)
