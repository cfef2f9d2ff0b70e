"""The reads behind a project's page, a deployment's page and the deploy actions: a project's
environments and deployments, found by id or name, one query each."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from store.db import Tx
from store.models import Deployment, Environment, Project


async def deployment_by_id(tx: Tx, deployment_id: int) -> Deployment | None:
    """The deployment with this id, if any."""
    return await tx.get(Deployment, deployment_id)


async def deployment_and_project(tx: Tx, deployment_id: int) -> tuple[Deployment, Project] | None:
    """The deployment with this id and its project (None when either is gone)."""
    deployment = await tx.get(Deployment, deployment_id)
    if deployment is None:
        return None
    project = await tx.get(Project, deployment.project_id)
    return None if project is None else (deployment, project)


async def environments_of(tx: Tx, project_id: int) -> Sequence[Environment]:
    """The project's environments: active before destroyed, production first, then by name."""
    return (
        await tx.scalars(
            select(Environment)
            .where(Environment.project_id == project_id)
            .order_by(Environment.state != "active", Environment.kind != "production", Environment.name)
        )
    ).all()


async def recent_deployments(
    tx: Tx, project_id: int, limit: int, environment: str | None = None, state: str | None = None
) -> Sequence[Deployment]:
    """The project's newest `limit` deployments, of one environment and in one state if given;
    `ready` means a live build, as the page says it, not one replaced or destroyed since."""
    query = select(Deployment).where(Deployment.project_id == project_id)
    if environment:
        query = query.where(Deployment.environment == environment)
    if state:
        query = query.where(Deployment.state == state)
    if state == "ready":
        live = select(Environment.current_deployment_id).where(
            Environment.project_id == project_id, Environment.state == "active"
        )
        query = query.where(Deployment.id.in_(live))
    return (await tx.scalars(query.order_by(Deployment.created_at.desc()).limit(limit))).all()


async def project_deployments(
    tx: Tx, project_id: int, limit: int
) -> Sequence[tuple[Deployment, Environment]]:
    """The project's newest `limit` deployments, newest first, each with its environment."""
    rows = await tx.execute(
        select(Deployment, Environment)
        .join(Environment, Environment.id == Deployment.environment_id)
        .where(Deployment.project_id == project_id)
        .order_by(Deployment.id.desc())
        .limit(limit)
    )
    return [(deployment, env) for deployment, env in rows.all()]


async def environment_named(
    tx: Tx, project_id: int, name: str, active_only: bool = False
) -> Environment | None:
    """The project's environment called `name` (only while active, with `active_only`)."""
    query = select(Environment).where(Environment.project_id == project_id, Environment.name == name)
    if active_only:
        query = query.where(Environment.state == "active")
    return await tx.scalar(query)


async def environment_state(tx: Tx, project_id: int, name: str) -> str | None:
    """The state of the project's environment called `name` (None when it has none)."""
    return await tx.scalar(
        select(Environment.state).where(Environment.project_id == project_id, Environment.name == name)
    )


async def active_environments(tx: Tx, project_id: int) -> list[str]:
    """The names of the project's active environments."""
    return list(
        (
            await tx.scalars(
                select(Environment.name).where(
                    Environment.project_id == project_id, Environment.state == "active"
                )
            )
        ).all()
    )
