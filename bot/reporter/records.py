"""The store reads and writes the reporter needs, kept apart from the GitHub calls."""

from __future__ import annotations

from datetime import datetime

from bot.reporter.views import CommentRow
from deployer.app_state import TROUBLED
from store import repo_apps, report_views, reporting
from store.check_gates import HELD
from store.db import Sessions, reading, transaction
from store.environment_names import preview_name
from store.models import Deployment, Environment
from store.report_views import PullRequestEnvironment
from store.reporting import ReportTarget


class ReportRecords:
    """Loads the rows a report is made of and keeps GitHub's ids on the deployment."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions

    async def deployment(self, deployment_id: int) -> tuple[Deployment, ReportTarget | None]:
        """The deployment row and where to report it (None for a repository-less project)."""
        async with reading(self._sessions) as tx:
            return await reporting.deployment_target(tx, deployment_id)

    async def environment(self, project_id: int, name: str) -> tuple[ReportTarget | None, list[int]]:
        """Where to report an environment, and the GitHub Deployments to mark inactive when it goes."""
        async with reading(self._sessions) as tx:
            return await reporting.environment_target(tx, project_id, name)

    async def remember(
        self, deployment_id: int, *, check_run_id: int | None = None, github_deployment_id: int | None = None
    ) -> None:
        """Store the check run's and the GitHub Deployment's ids on the deployment."""
        async with transaction(self._sessions) as tx:
            await reporting.remember_github_ids(
                tx, deployment_id, check_run_id=check_run_id, github_deployment_id=github_deployment_id
            )

    async def previous_live(self, deployment_id: int) -> tuple[int, int] | None:
        """The deployment of the same environment that went live before this one, with its
        GitHub Deployment id; None when there is none."""
        async with reading(self._sessions) as tx:
            return await reporting.previous_live(tx, deployment_id)

    async def first_of_pull_request(self, deployment_id: int) -> bool:
        """True when no other deployment was ever made for any environment of this
        deployment's pull request (so AutoStack has not commented on it yet)."""
        async with reading(self._sessions) as tx:
            return await reporting.first_of_pull_request(tx, deployment_id)

    async def log_tail(self, deployment_id: int, lines: int) -> list[str]:
        """The last `lines` lines of the deployment's stored log, oldest first."""
        async with reading(self._sessions) as tx:
            return await reporting.log_tail(tx, deployment_id, lines)

    async def comment_rows(self, repo: str, pr_number: int) -> list[CommentRow]:
        """Each environment of the pull request with its latest deployment."""
        found = await report_views.pull_request_environments(self._sessions, repo, pr_number)
        rows = [_row(environment) for environment in found]
        # an app of the repository the pull request never deployed: none of its paths changed
        shown = {row.app for row in rows}
        skipped = [app for app in await repo_apps.app_names(self._sessions, repo) if app not in shown]
        name = preview_name(pr_number)
        return rows + [CommentRow(name, "skipped", None, None, None, None, None, app=app) for app in skipped]

    async def comment_locks(self, repo: str, pr_number: int) -> tuple[str, ...]:
        """The locks a pull request's readers should know of: production's and its own preview's,
        of every app of a monorepo."""
        return await report_views.pull_request_locks(self._sessions, repo, pr_number)


def _row(found: PullRequestEnvironment) -> CommentRow:
    environment, latest, live = found.environment, found.latest, found.live
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
        app=found.app,
    )


def _awaiting_approval(environment: Environment) -> str | None:
    if not environment.untrusted or environment.state == "destroyed" or not environment.head_sha:
        return None
    return environment.head_sha if environment.head_sha != environment.approved_sha else None
