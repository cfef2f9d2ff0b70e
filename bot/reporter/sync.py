"""Bring GitHub to a deployment's current state: check run, commit status, Deployment and
sticky comment, each sent only when it differs from what GitHub was last told (the ledger).

Intermediate states are never replayed: whoever pushes (the live reporter, or the catch-up
job after a rate limit) sends the latest state. A rate limit stops the push and schedules
the catch-up at the reset; any other GitHub failure is logged and the next channel goes on.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.github.api import CheckOutput, CheckStatus, GitHubAPI
from bot.github.errors import GitHubError, GitHubPermanentError, GitHubRateLimited
from bot.reporter import check_run as render
from bot.reporter.comment import render_pr_comment
from bot.reporter.ledger import Ledger
from bot.reporter.records import ReportRecords
from bot.reporter.sticky import StickyComments
from bot.reporter.views import DeploymentView
from deployer.masking import Masker
from handlers.check_names import app_environment, check_name, status_context
from store.check_gates import HELD
from store.environment_names import github_environment
from store.reporting import ReportTarget

log = logging.getLogger("autostack.reporter")
# a Deployment is made for a run that got somewhere; a run cancelled before it began gets none
RAN = frozenset({"building", "deploying", "ready", "failed", "timed_out"})


@dataclass(frozen=True, slots=True)
class Wanted:
    """What the deployment should show on GitHub now."""

    view: DeploymentView
    output: CheckOutput
    outcome: str | None = None  # the deployer's outcome once finished
    started_at: datetime | None = None
    completed_at: datetime | None = None
    text_changed: bool = False  # the log text moved on since the last send

    @property
    def final(self) -> bool:
        """The deployment has finished."""
        return self.outcome is not None


def deployment_key(deployment_id: int) -> str:
    """The ledger key of one deployment's channels."""
    return f"deployment:{deployment_id}"


class Sync:
    """Sends one deployment's differences to GitHub; keeps GitHub's ids on the row."""

    def __init__(
        self,
        github: GitHubAPI,
        target: ReportTarget,
        records: ReportRecords,
        ledger: Ledger,
        masker: Masker,
        sticky: StickyComments,
        *,
        check_run_id: int | None,
        github_deployment_id: int | None,
    ) -> None:
        self._gh = github
        self._target = target
        self._records = records
        self._ledger = ledger
        self._mask = masker.mask
        self._sticky = sticky
        self.check_run_id = check_run_id
        self.github_deployment_id = github_deployment_id

    async def push(self, wanted: Wanted, *, deployment: bool = True, comment: bool = True) -> bool:
        """Send what differs; False when a rate limit left the rest for the catch-up job."""
        told = await self._ledger.get(deployment_key(wanted.view.id))
        steps: list[Callable[[Wanted, dict[str, str]], Awaitable[None]]] = [self._check_run, self._status]
        if deployment and wanted.view.state in RAN:
            steps.append(self._deployment)
        if comment and self._target.pr_number is not None:
            steps.append(self._comment)
        for step in steps:
            try:
                await step(wanted, told)
            except GitHubRateLimited as exc:
                log.info("deployment %s: %s", wanted.view.id, exc)
                await self._ledger.schedule(wanted.view.id, exc.retry_after)
                return False
            except GitHubError as exc:
                log.warning("reporting deployment %s failed: %s", wanted.view.id, exc)
        return True

    async def _told(self, wanted: Wanted, **signatures: str) -> None:
        await self._ledger.put(deployment_key(wanted.view.id), **signatures)

    async def _check_run(self, wanted: Wanted, told: dict[str, str]) -> None:
        view = wanted.view
        status: CheckStatus = (
            "completed" if wanted.final else ("queued" if view.state == "queued" else "in_progress")
        )
        conclusion = render.conclusion_for(wanted.outcome) if wanted.outcome is not None else None
        signature = f"{status}|{conclusion or ''}|{wanted.output.title}"
        if self.check_run_id is not None and told.get("check") == signature and not wanted.text_changed:
            return
        actions = render.actions_for(view) if wanted.final else None
        started_at = wanted.started_at if status != "queued" else None
        if self.check_run_id is None:
            self.check_run_id = await self._gh.create_check_run(
                self._target.repo,
                name=check_name(view.environment, view.app),
                head_sha=view.sha,
                status=status,
                external_id=str(view.id),
                details_url=view.log_url,
                output=wanted.output,
                actions=actions or (),
                started_at=started_at,
                conclusion=conclusion,
                completed_at=wanted.completed_at if wanted.final else None,
            )
            await self._records.remember(view.id, check_run_id=self.check_run_id)
        else:
            await self._gh.update_check_run(
                self._target.repo,
                self.check_run_id,
                status=None if wanted.final else status,
                conclusion=conclusion,
                output=wanted.output,
                actions=actions,
                started_at=started_at,
                completed_at=wanted.completed_at if wanted.final else None,
            )
        await self._told(wanted, check=signature)

    async def _status(self, wanted: Wanted, told: dict[str, str]) -> None:
        view = wanted.view
        if wanted.outcome is not None:
            state = render.status_state_for(wanted.outcome)
        else:
            state = render.running_status(view.state)
        description = self._mask(render.describe(view))
        # waiting and blocked say which checks in the description: a change there is news
        signature = f"{state}|{description}" if view.state in HELD else state
        if told.get("status") == signature:
            return
        await self._gh.create_commit_status(
            self._target.repo,
            view.sha,
            state=state,
            context=status_context(view.environment, view.app),
            description=description,
            target_url=view.log_url,
        )
        await self._told(wanted, status=signature)

    async def _deployment(self, wanted: Wanted, told: dict[str, str]) -> None:
        view = wanted.view
        if self.github_deployment_id is None:
            self.github_deployment_id = await self._gh.create_deployment(
                self._target.repo,
                ref=view.sha,
                environment=app_environment(github_environment(view.environment), view.app),
                description=f"AutoStack deployment #{view.id}",
                transient=view.kind != "production",
                production=view.kind == "production",
            )
            await self._records.remember(view.id, github_deployment_id=self.github_deployment_id)
        if wanted.outcome is None:
            # a new Deployment shows as pending until its outcome; the check run and the
            # commit status already say it is under way
            return
        state = render.deployment_state_for(wanted.outcome)
        if told.get("deployment") != state:
            await self._gh.create_deployment_status(
                self._target.repo,
                self.github_deployment_id,
                state=state,
                description=self._mask(render.describe(view)),
                environment_url=view.url if state == "success" else None,
                log_url=view.log_url,
            )
            await self._told(wanted, deployment=state)
        if state == "success":
            await self._supersede(view)

    async def _supersede(self, view: DeploymentView) -> None:
        """Mark the Deployment that was live before this one inactive: GitHub's auto_inactive
        skips transient (preview) and production environments, so it would stay active."""
        previous = await self._records.previous_live(view.id)
        if previous is None:
            return
        deployment_id, github_id = previous
        if (await self._ledger.get(deployment_key(deployment_id))).get("deployment") == "inactive":
            return
        await self._gh.create_deployment_status(
            self._target.repo,
            github_id,
            state="inactive",
            description=f"Replaced by deployment #{view.id}",
        )
        await self._ledger.put(deployment_key(deployment_id), deployment="inactive")

    async def _comment(self, wanted: Wanted, told: dict[str, str]) -> None:
        await sync_comment(
            self._gh, self._target, self._records, self._ledger, self._mask, self._sticky, wanted.view.id
        )


async def sync_comment(
    github: GitHubAPI,
    target: ReportTarget,
    records: ReportRecords,
    ledger: Ledger,
    mask: Callable[[str], str],
    sticky: StickyComments,
    deployment_id: int | None = None,
) -> None:
    """Render the pull request's sticky comment from the store; send it when it changed.

    The comment's id is kept in the ledger, so any process edits it without listing the
    pull request's comments; a pull request none of whose environments was ever deployed
    before has no comment of ours, so its first one is posted without looking (under the claim)."""
    if target.pr_number is None:
        return
    rows = await records.comment_rows(target.repo, target.pr_number)
    held = await records.comment_locks(target.repo, target.pr_number)
    body = mask(render_pr_comment(target.project, rows, held))
    key = f"comment:{target.repo}#{target.pr_number}"
    signature = hashlib.sha256(body.encode()).hexdigest()[:32]
    told = await ledger.get(key)
    if told.get("body") == signature:
        return
    known = int(told["id"]) if told.get("id") else None
    if known is not None:
        try:
            await github.update_issue_comment(target.repo, known, body)
            await ledger.put(key, body=signature)
            return
        except GitHubPermanentError as exc:
            if exc.status != 404:
                raise
            # deleted on GitHub: find or post it again below
    # even the first comment is posted under the pull request's claim: a monorepo's apps
    # report the same new pull request at once, and only one of them may post
    fresh = known is None and deployment_id is not None and await records.first_of_pull_request(deployment_id)
    comment_id = await sticky.upsert(github, target.repo, target.pr_number, body, fresh=fresh)
    await ledger.put(key, body=signature, id=str(comment_id))
