"""One `Reporter` per deployment: deployer events in, GitHub check run, commit status,
Deployment and sticky comment out. Log updates are coalesced to a bounded rate."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.github.api import CheckOutput, GitHubAPI, GitHubApps
from bot.github.errors import GitHubError
from bot.reporter import check_run as render
from bot.reporter.annotations import AnnotationParser
from bot.reporter.comment import render_pr_comment
from bot.reporter.log_tail import LogTail, render_log_text
from bot.reporter.records import Records, Target
from bot.reporter.sticky import StickyComments
from bot.reporter.views import DeploymentView
from deployer.events import (
    DeployEvent,
    EnvironmentDestroyed,
    Finished,
    LogLine,
    PhaseStarted,
    Queued,
)
from deployer.masking import LineMasker, Masker
from deployer.state import durations
from store.models import Deployment, utcnow

log = logging.getLogger("autostack.reporter")
FLUSH_INTERVAL = 10.0
DEPLOY_PHASES = frozenset({"release", "start", "health", "switch", "rollout"})


class Reporter:
    """Reports one deployment to GitHub; an `EventSink` that never raises for GitHub trouble."""

    def __init__(
        self,
        deployment_id: int | None,
        *,
        sessions: async_sessionmaker[AsyncSession],
        github: GitHubApps,
        base_url: str,
        masker: Masker | None = None,
        sticky: StickyComments | None = None,
        flush_interval: float = FLUSH_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
        source_roots: tuple[str, ...] = (),
    ) -> None:
        self.deployment_id = deployment_id
        self._records = Records(sessions)
        self._apps = github
        self._base_url = base_url.rstrip("/")
        self._masker = masker or Masker()
        self._lines = LineMasker(self._masker)
        self._sticky = sticky or StickyComments(sessions)
        self._interval = flush_interval
        self._clock = clock
        self._now = now
        self._tail = LogTail()
        self._parser = AnnotationParser(source_roots)
        self._loaded = False
        self._target: Target | None = None
        self._gh: GitHubAPI | None = None
        self._view: DeploymentView | None = None
        self._check_run_id: int | None = None
        self._deployment_gh_id: int | None = None
        self._started = False
        self._dirty = False
        self._last_flush = 0.0

    async def emit(self, event: DeployEvent) -> None:
        """Take one deployer event; GitHub failures are logged, never raised."""
        try:
            await self._handle(event)
        except GitHubError as exc:
            log.warning(
                "reporting %s to GitHub failed: %s",
                type(event).__name__,
                exc,
                extra={"deployment_id": self.deployment_id},
            )
        except Exception:
            log.exception(
                "reporting %s failed", type(event).__name__, extra={"deployment_id": self.deployment_id}
            )

    async def _handle(self, event: DeployEvent) -> None:
        if isinstance(event, EnvironmentDestroyed):
            await self._destroyed(event)
            return
        if isinstance(event, LogLine):
            # Masking and the tail work even when there is no repository to report to.
            self._take_line(event.text)
        if not await self._load() or self._gh is None:
            return
        if isinstance(event, Queued):
            await self._queued()
        elif isinstance(event, PhaseStarted):
            await self._phase(event)
        elif isinstance(event, LogLine):
            await self._maybe_flush()
        elif isinstance(event, Finished):
            await self._finished(event)

    async def _load(self) -> bool:
        if self._loaded:
            return self._target is not None
        self._loaded = True
        if self.deployment_id is None:
            return False
        row, self._target = await self._records.deployment(self.deployment_id)
        self._check_run_id = row.check_run_id
        self._deployment_gh_id = row.github_deployment_id
        self._view = self._view_of(row)
        if self._target is not None:
            self._gh = self._apps.installation(self._target.installation_id)
        return self._target is not None

    def _view_of(self, row: Deployment) -> DeploymentView:
        target = self._target
        return DeploymentView(
            id=row.id,
            project=target.project if target else "",
            environment=row.environment,
            kind=target.kind if target else "preview",
            sha=row.commit_sha or "",
            state=row.state,
            log_url=f"{self._base_url}/deployments/{row.id}",
            url=row.url,
            reason=row.reason,
            framework=row.framework,
            framework_reason=row.framework_reason,
            build_seconds=row.build_seconds,
            cache_hit=row.cache_hit,
            artifact=row.artifact,
            phases=durations(dict(row.phases or {})),
        )

    def _take_line(self, text: str) -> None:
        for raw in text.split("\n"):
            line = self._lines.feed(raw)
            if line is not None:
                self._tail.append(line)
                self._parser.feed(line)
        self._dirty = True

    def _output(self, view: DeploymentView, *, final: bool = False) -> CheckOutput:
        text = render_log_text(self._tail.lines, self._tail.cut, view.log_url) if self._tail.total else None
        annotations = self._parser.result() if final else []
        output = render.render_output(view, text, annotations, self._parser.dropped if final else 0)
        mask = self._masker.mask
        return CheckOutput(
            title=mask(output.title),
            summary=mask(output.summary),
            text=mask(output.text) if output.text is not None else None,
            annotations=tuple(dataclasses.replace(a, message=mask(a.message)) for a in output.annotations),
        )

    async def _status(self, view: DeploymentView, state: str) -> None:
        assert self._gh is not None and self._target is not None
        await self._gh.create_commit_status(
            self._target.repo,
            view.sha,
            state=state,  # type: ignore[arg-type]
            context=render.status_context(view.environment),
            description=self._masker.mask(render.describe(view)),
            target_url=view.log_url,
        )

    async def _queued(self) -> None:
        assert self._gh is not None and self._target is not None and self._view is not None
        view = self._view = dataclasses.replace(self._view, state="queued")
        if self._check_run_id is None:
            self._check_run_id = await self._gh.create_check_run(
                self._target.repo,
                name=render.check_name(view.environment),
                head_sha=view.sha,
                status="queued",
                external_id=str(view.id),
                details_url=view.log_url,
                output=self._output(view),
            )
            await self._records.remember(view.id, check_run_id=self._check_run_id)
        await self._status(view, "pending")
        await self._comment()

    async def _phase(self, event: PhaseStarted) -> None:
        assert self._gh is not None and self._target is not None and self._view is not None
        state = "deploying" if event.phase in DEPLOY_PHASES else "building"
        view = self._view = dataclasses.replace(self._view, state=state, phase=event.phase)
        if self._started:
            self._dirty = True
            await self._maybe_flush()
            return
        self._started = True
        await self._check_run(view, status="in_progress", started_at=event.at)
        self._last_flush, self._dirty = self._clock(), False
        if self._deployment_gh_id is None:
            self._deployment_gh_id = await self._gh.create_deployment(
                self._target.repo,
                ref=view.sha,
                environment=view.environment,
                description=f"AutoStack deployment #{view.id}",
                transient=view.kind != "production",
                production=view.kind == "production",
            )
            await self._records.remember(view.id, github_deployment_id=self._deployment_gh_id)
        await self._gh.create_deployment_status(
            self._target.repo,
            self._deployment_gh_id,
            state="in_progress",
            description=self._masker.mask(render.describe(view)),
            log_url=view.log_url,
        )

    async def _check_run(self, view: DeploymentView, **changes: object) -> None:
        assert self._gh is not None and self._target is not None
        final = "conclusion" in changes
        output = self._output(view, final=final)
        actions = render.actions_for(view) if final else None
        if self._check_run_id is None:
            self._check_run_id = await self._gh.create_check_run(
                self._target.repo,
                name=render.check_name(view.environment),
                head_sha=view.sha,
                status="in_progress",
                external_id=str(view.id),
                details_url=view.log_url,
                output=output,
                started_at=changes.get("started_at"),  # type: ignore[arg-type]
            )
            await self._records.remember(view.id, check_run_id=self._check_run_id)
            if not final:
                return
        await self._gh.update_check_run(
            self._target.repo,
            self._check_run_id,
            output=output,
            actions=actions,
            **changes,  # type: ignore[arg-type]
        )

    async def _maybe_flush(self) -> None:
        if not (self._started and self._dirty and self._view is not None):
            return
        if self._clock() - self._last_flush < self._interval:
            return
        self._last_flush, self._dirty = self._clock(), False
        await self._check_run(self._view)

    async def _finished(self, event: Finished) -> None:
        assert self._gh is not None and self._target is not None and self._view is not None
        last = self._lines.flush()
        if last is not None:
            self._tail.append(last)
            self._parser.feed(last)
        row, _ = await self._records.deployment(self._view.id)
        view = self._view = dataclasses.replace(
            self._view_of(row),
            state=event.state,
            url=event.url or row.url,
            reason=event.reason or row.reason,
            facts=dict(event.facts),
        )
        await self._check_run(view, conclusion=render.conclusion_for(event.outcome), completed_at=self._now())
        await self._status(view, render.status_state_for(event.outcome))
        if self._deployment_gh_id is not None:
            success = event.outcome == "success"
            await self._gh.create_deployment_status(
                self._target.repo,
                self._deployment_gh_id,
                state=render.deployment_state_for(event.outcome),
                description=self._masker.mask(render.describe(view)),
                environment_url=view.url if success else None,
                log_url=view.log_url,
            )
        await self._comment()

    async def _comment(self) -> None:
        target = self._target
        if target is None or target.pr_number is None or self._gh is None:
            return
        rows = await self._records.comment_rows(target.repo, target.pr_number)
        held = await self._records.comment_locks(target.repo, target.pr_number)
        body = self._masker.mask(render_pr_comment(target.project, rows, held))
        await self._sticky.upsert(self._gh, target.repo, target.pr_number, body)

    async def refresh_comment(self, project_id: int, environment: str) -> None:
        """Re-render the sticky comment of the environment's pull request from the store."""
        target, _ = await self._records.environment(project_id, environment)
        if target is None:
            return
        self._target, self._gh = target, self._apps.installation(target.installation_id)
        await self._comment()

    async def _destroyed(self, event: EnvironmentDestroyed) -> None:
        target, github_ids = await self._records.environment(event.project_id, event.environment)
        if target is None:
            return
        self._target, self._gh = target, self._apps.installation(target.installation_id)
        for github_id in github_ids:
            await self._gh.create_deployment_status(
                target.repo,
                github_id,
                state="inactive",
                description=f"{event.environment} was destroyed",
            )
        await self._comment()
