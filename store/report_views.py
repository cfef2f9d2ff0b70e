"""What a pull request's sticky comment shows: each environment of the pull request with its
latest deployment and live app state, and the locks its readers should know of."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from store import app_states, locks, repo_apps
from store.db import Sessions, reading
from store.models import Deployment, Environment, Project


@dataclass(frozen=True, slots=True)
class PullRequestEnvironment:
    """One environment of a pull request, with what its line in the comment is made of."""

    environment: Environment
    latest: Deployment | None
    app: str  # the monorepo app, "" for a one-app repository
    live: app_states.KnownState | None  # the state of its live build's app, when one is known


async def pull_request_environments(
    sessions: Sessions, repo: str, pr_number: int
) -> list[PullRequestEnvironment]:
    """Each environment of the pull request in every app of the repository `owner/name`, by
    app and name, with its latest deployment."""
    async with reading(sessions) as tx:
        found = (
            await tx.execute(
                select(Environment, Project.app)
                .join(Project, Project.id == Environment.project_id)
                .where(
                    Project.full_name == repo,
                    Project.archived_at.is_(None),
                    Environment.pr_number == pr_number,
                )
                .order_by(Project.app, Environment.name)
            )
        ).all()
    known = await app_states.current(sessions, (environment.id for environment, _ in found))
    shown = []
    async with reading(sessions) as tx:
        for environment, app in found:
            latest = await tx.scalar(
                select(Deployment)
                .where(Deployment.environment_id == environment.id)
                .order_by(Deployment.id.desc())
                .limit(1)
            )
            live = app_states.shown(known.get(environment.id), environment.current_deployment_id)
            shown.append(PullRequestEnvironment(environment, latest, app, live))
    return shown


async def pull_request_locks(sessions: Sessions, repo: str, pr_number: int) -> tuple[str, ...]:
    """The locks a pull request's readers should know of, described: production's and its own
    preview's, of every app of a monorepo."""
    held: list[str] = []
    for project_id, app in await repo_apps.live_projects(sessions, repo):
        async with reading(sessions) as tx:
            found = await locks.locks_of(tx, project_id, ("production", f"pr-{pr_number}"))
            held += [locks.describe(lock, app) for lock in found]
    return tuple(held)
