"""What a deployment's report on GitHub is made of: where it goes, GitHub's ids kept on the
deployment, the Deployments of an environment and the tail of the stored log."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlalchemy import or_, select, update

from store.db import Tx
from store.models import Deployment, DeploymentLog, Environment, Project


@dataclass(frozen=True, slots=True)
class ReportTarget:
    """Where a deployment is reported: the repository, installation and environment."""

    repo: str
    installation_id: int
    project: str
    environment: str
    kind: str
    pr_number: int | None
    app: str = ""


def _target(project: Project, environment: Environment) -> ReportTarget | None:
    if project.full_name is None or project.installation_id is None:
        return None
    return ReportTarget(
        repo=project.full_name,
        installation_id=project.installation_id,
        project=project.name,
        environment=environment.name,
        kind=environment.kind,
        pr_number=environment.pr_number,
        app=project.app,
    )


async def project_of(tx: Tx, deployment_id: int) -> int | None:
    """The project a deployment belongs to; None when there is no such deployment."""
    return await tx.scalar(select(Deployment.project_id).where(Deployment.id == deployment_id))


async def deployment_target(tx: Tx, deployment_id: int) -> tuple[Deployment, ReportTarget | None]:
    """The deployment row and where to report it (None for a repository-less project)."""
    row = await tx.get(Deployment, deployment_id)
    if row is None:
        raise LookupError(f"deployment {deployment_id} does not exist")
    project = await tx.get(Project, row.project_id)
    environment = await tx.get(Environment, row.environment_id)
    if project is None or environment is None:
        raise LookupError(f"deployment {deployment_id} lost its project or environment")
    target = _target(project, environment)
    if target is not None and row.pr_number is not None and target.pr_number is None:
        target = dataclasses.replace(target, pr_number=row.pr_number)
    return row, target


async def environment_target(tx: Tx, project_id: int, name: str) -> tuple[ReportTarget | None, list[int]]:
    """Where to report an environment, and the GitHub Deployments to mark inactive when it
    goes: its latest one and every one that went live (GitHub's auto_inactive skips
    transient and production environments, so earlier previews would stay active)."""
    environment = await tx.scalar(
        select(Environment).where(Environment.project_id == project_id, Environment.name == name)
    )
    project = await tx.get(Project, project_id)
    if environment is None or project is None:
        return None, []
    rows = (
        await tx.execute(
            select(Deployment.github_deployment_id, Deployment.ready_at)
            .where(
                Deployment.environment_id == environment.id,
                Deployment.github_deployment_id.is_not(None),
            )
            .order_by(Deployment.id.desc())
        )
    ).all()
    # the query keeps only rows with an id; the `is not None` says so to the type checker
    github_ids = [
        github_id
        for index, (github_id, ready_at) in enumerate(rows)
        if github_id is not None and (index == 0 or ready_at)
    ]
    return _target(project, environment), github_ids


async def remember_github_ids(
    tx: Tx, deployment_id: int, *, check_run_id: int | None = None, github_deployment_id: int | None = None
) -> None:
    """Keep the ids GitHub gave the deployment's check run and Deployment (those given)."""
    ids = {"check_run_id": check_run_id, "github_deployment_id": github_deployment_id}
    known = {name: value for name, value in ids.items() if value is not None}
    if known:
        await tx.execute(update(Deployment).where(Deployment.id == deployment_id).values(**known))


async def previous_live(tx: Tx, deployment_id: int) -> tuple[int, int] | None:
    """The deployment of the same environment that went live before this one, with its
    GitHub Deployment id; None when there is none."""
    row = await tx.get(Deployment, deployment_id)
    if row is None:
        return None
    found = (
        await tx.execute(
            select(Deployment.id, Deployment.github_deployment_id)
            .where(
                Deployment.environment_id == row.environment_id,
                Deployment.id < deployment_id,
                Deployment.ready_at.is_not(None),
                Deployment.github_deployment_id.is_not(None),
            )
            .order_by(Deployment.id.desc())
            .limit(1)
        )
    ).first()
    return (found[0], found[1]) if found is not None and found[1] is not None else None


async def first_of_pull_request(tx: Tx, deployment_id: int) -> bool:
    """True when no other deployment was ever made for any environment of this
    deployment's pull request, by any app of the repository (so there is no comment yet)."""
    row = await tx.get(Deployment, deployment_id)
    environment = await tx.get(Environment, row.environment_id) if row else None
    if row is None or environment is None or environment.pr_number is None:
        return False
    repo = select(Project.full_name).where(Project.id == row.project_id).scalar_subquery()
    # a repository-less project has no siblings: then its own environments only
    siblings = or_(
        Environment.project_id == row.project_id,
        Environment.project_id.in_(select(Project.id).where(Project.full_name == repo)),
    )
    others = await tx.scalar(
        select(Deployment.id)
        .join(Environment, Environment.id == Deployment.environment_id)
        .where(siblings, Environment.pr_number == environment.pr_number, Deployment.id != deployment_id)
        .limit(1)
    )
    return others is None


async def log_tail(tx: Tx, deployment_id: int, lines: int) -> list[str]:
    """The last `lines` lines of the deployment's stored log, oldest first."""
    found = await tx.scalars(
        select(DeploymentLog.line)
        .where(DeploymentLog.deployment_id == deployment_id)
        .order_by(DeploymentLog.seq.desc())
        .limit(lines)
    )
    return list(reversed(found.all()))
