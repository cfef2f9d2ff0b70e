"""The store reads and writes the reporter needs, kept apart from the GitHub calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.reporter.views import CommentRow
from deployer.app_state import TROUBLED
from store import app_states, locks, repo_apps
from store.check_gates import HELD
from store.models import Deployment, DeploymentLog, Environment, Project


@dataclass(frozen=True, slots=True)
class Target:
    """Where a deployment is reported: the repository, installation and environment."""

    repo: str
    installation_id: int
    project: str
    environment: str
    kind: str
    pr_number: int | None
    app: str = ""


def _target(project: Project, environment: Environment) -> Target | None:
    if project.full_name is None or project.installation_id is None:
        return None
    return Target(
        repo=project.full_name,
        installation_id=project.installation_id,
        project=project.name,
        environment=environment.name,
        kind=environment.kind,
        pr_number=environment.pr_number,
        app=project.app,
    )


class Records:
    """Loads the rows a report is made of and keeps GitHub's ids on the deployment."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def deployment(self, deployment_id: int) -> tuple[Deployment, Target | None]:
        """The deployment row and where to report it (None for a repository-less project)."""
        async with self._sessions() as session:
            row = await session.get(Deployment, deployment_id)
            if row is None:
                raise LookupError(f"deployment {deployment_id} does not exist")
            project = await session.get(Project, row.project_id)
            environment = await session.get(Environment, row.environment_id)
            if project is None or environment is None:
                raise LookupError(f"deployment {deployment_id} lost its project or environment")
            target = _target(project, environment)
            if target is not None and row.pr_number is not None and target.pr_number is None:
                target = Target(**{**target.__dict__, "pr_number": row.pr_number})
            return row, target

    async def environment(self, project_id: int, name: str) -> tuple[Target | None, list[int]]:
        """Where to report an environment, and the GitHub Deployments to mark inactive when it
        goes: its latest one and every one that went live (GitHub's auto_inactive skips
        transient and production environments, so earlier previews would stay active)."""
        async with self._sessions() as session:
            environment = await session.scalar(
                select(Environment).where(Environment.project_id == project_id, Environment.name == name)
            )
            project = await session.get(Project, project_id)
            if environment is None or project is None:
                return None, []
            rows = (
                await session.execute(
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

    async def remember(self, deployment_id: int, **ids: int) -> None:
        """Store check_run_id / github_deployment_id on the deployment."""
        async with self._sessions() as session:
            await session.execute(update(Deployment).where(Deployment.id == deployment_id).values(**ids))
            await session.commit()

    async def previous_live(self, deployment_id: int) -> tuple[int, int] | None:
        """The deployment of the same environment that went live before this one, with its
        GitHub Deployment id; None when there is none."""
        async with self._sessions() as session:
            row = await session.get(Deployment, deployment_id)
            if row is None:
                return None
            found = (
                await session.execute(
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

    async def first_of_pull_request(self, deployment_id: int) -> bool:
        """True when no other deployment was ever made for any environment of this
        deployment's pull request (so AutoStack has not commented on it yet)."""
        async with self._sessions() as session:
            row = await session.get(Deployment, deployment_id)
            environment = await session.get(Environment, row.environment_id) if row else None
            if row is None or environment is None or environment.pr_number is None:
                return False
            siblings = await repo_apps.sibling_ids(self._sessions, row.project_id)
            others = await session.scalar(
                select(Deployment.id)
                .join(Environment, Environment.id == Deployment.environment_id)
                .where(
                    # any app of the repository: their one comment is posted once
                    Environment.project_id.in_(siblings),
                    Environment.pr_number == environment.pr_number,
                    Deployment.id != deployment_id,
                )
                .limit(1)
            )
            return others is None

    async def log_tail(self, deployment_id: int, lines: int) -> list[str]:
        """The last `lines` lines of the deployment's stored log, oldest first."""
        async with self._sessions() as session:
            found = await session.scalars(
                select(DeploymentLog.line)
                .where(DeploymentLog.deployment_id == deployment_id)
                .order_by(DeploymentLog.seq.desc())
                .limit(lines)
            )
            return list(reversed(found.all()))

    async def comment_rows(self, repo: str, pr_number: int) -> list[CommentRow]:
        """Each environment of the pull request with its latest deployment."""
        async with self._sessions() as session:
            found = (
                await session.execute(
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
        known = await app_states.current(self._sessions, (environment.id for environment, _ in found))
        async with self._sessions() as session:
            rows = []
            for environment, app in found:
                latest = await session.scalar(
                    select(Deployment)
                    .where(Deployment.environment_id == environment.id)
                    .order_by(Deployment.id.desc())
                    .limit(1)
                )
                live = app_states.shown(known.get(environment.id), environment.current_deployment_id)
                rows.append(_row(environment, latest, app, live))
        # an app of the repository the pull request never deployed: none of its paths changed
        shown = {row.app for row in rows}
        skipped = [app for app in await repo_apps.app_names(self._sessions, repo) if app not in shown]
        return rows + [
            CommentRow(f"pr-{pr_number}", "skipped", None, None, None, None, None, app=app) for app in skipped
        ]

    async def comment_locks(self, repo: str, pr_number: int) -> tuple[str, ...]:
        """The locks a pull request's readers should know of: production's and its own preview's,
        of every app of a monorepo."""
        held: list[str] = []
        for project_id, app in await repo_apps.live_projects(self._sessions, repo):
            async with self._sessions() as session:
                found = await locks.locks_of(session, project_id, ("production", f"pr-{pr_number}"))
                held += [locks.describe(lock, app) for lock in found]
        return tuple(held)


def _row(
    environment: Environment,
    latest: Deployment | None,
    app: str = "",
    live: app_states.KnownState | None = None,
) -> CommentRow:
    state = "destroyed" if environment.state == "destroyed" else (latest.state if latest else "queued")
    updated: datetime = environment.destroyed_at or environment.last_activity_at
    if latest is not None and environment.state != "destroyed":
        updated = latest.finished_at or latest.started_at or latest.created_at
    # the live build's app crashed, restarts or is unhealthy: that, since when it started
    if (
        state == "ready"
        and live is not None
        and live.state in TROUBLED
        and latest
        and latest.id == live.deployment_id
    ):
        state, updated = live.state, live.since
    return CommentRow(
        environment=environment.name,
        state=state,
        url=(latest.url if latest else None) or environment.url,
        sha=latest.commit_sha if latest else None,
        build_seconds=latest.build_seconds if latest else None,
        cache_hit=latest.cache_hit if latest else None,
        held_because=latest.reason if latest is not None and state in HELD else None,
        updated=updated,
        awaiting_approval=_awaiting_approval(environment),
        app=app,
    )


def _awaiting_approval(environment: Environment) -> str | None:
    if not environment.untrusted or environment.state == "destroyed" or not environment.head_sha:
        return None
    return environment.head_sha if environment.head_sha != environment.approved_sha else None
