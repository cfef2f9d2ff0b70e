"""One `Reporter` per deployment: deployer events in, GitHub check run, commit status,
Deployment and sticky comment out. Log updates are coalesced to a bounded rate."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.github.api import CheckOutput, GitHubAPI, GitHubApps
from bot.github.errors import GitHubError
from bot.reporter import check_run as render
from bot.reporter.annotations import AnnotationParser
from bot.reporter.ledger import Ledger, MemoryLedger
from bot.reporter.log_tail import LogTail, render_log_text
from bot.reporter.records import ReportRecords
from bot.reporter.sticky import StickyComments
from bot.reporter.sync import Sync, Wanted, sync_comment
from bot.reporter.views import DeploymentView
from deployer.events import (
    DeployEvent,
    EnvironmentDestroyed,
    Finished,
    Held,
    LogLine,
    PhaseStarted,
    Queued,
)
from deployer.masking import LineMasker, Masker
from deployer.state import durations
from store.db import Sessions
from store.models import Deployment, utcnow
from store.reporting import ReportTarget

log = logging.getLogger("autostack.reporter")
FLUSH_INTERVAL = 10.0
# a state change waits this long for the next one, so quick steps cost one report
STATE_DELAY = 3.0
CATCH_UP_LINES = 500
OUTCOMES = {
    "ready": "success",
    "failed": "failure",
    "cancelled": "cancelled",
    "superseded": "cancelled",
    "timed_out": "timed_out",
}
DEPLOY_PHASES = frozenset({"release", "start", "health", "switch", "rollout"})


class Reporter:
    """Reports one deployment to GitHub; an `EventSink` that never raises for GitHub trouble."""

    def __init__(
        self,
        deployment_id: int | None,
        *,
        sessions: Sessions,
        github: GitHubApps,
        base_url: str,
        masker: Masker | None = None,
        sticky: StickyComments | None = None,
        flush_interval: float = FLUSH_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utcnow,
        source_roots: tuple[str, ...] = (),
        ledger: Ledger | None = None,
        state_delay: float = STATE_DELAY,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.deployment_id = deployment_id
        self._ledger = ledger or MemoryLedger()
        self._state_delay = state_delay
        self._sleep = sleep
        self._records = ReportRecords(sessions)
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
        self._target: ReportTarget | None = None
        self._gh: GitHubAPI | None = None
        self._view: DeploymentView | None = None
        self._sync: Sync | None = None
        self._started_at: datetime | None = None
        self._dirty = False
        self._text_dirty = False
        self._last_flush = 0.0
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task[None] | None = None
        self._due = 0.0

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
        elif isinstance(event, Held):
            await self._held(event)
        elif isinstance(event, Finished):
            await self._finished(event)

    async def _load(self) -> bool:
        if self._loaded:
            return self._target is not None
        self._loaded = True
        if self.deployment_id is None:
            return False
        row, self._target = await self._records.deployment(self.deployment_id)
        self._view = self._view_of(row)
        if self._target is not None:
            self._gh = self._apps.installation(self._target.installation_id)
            self._sync = Sync(
                self._gh,
                self._target,
                self._records,
                self._ledger,
                self._masker,
                self._sticky,
                check_run_id=row.check_run_id,
                github_deployment_id=row.github_deployment_id,
            )
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
            app=target.app if target else "",
        )

    def _take_line(self, text: str) -> None:
        for raw in text.split("\n"):
            line = self._lines.feed(raw)
            if line is not None:
                self._tail.append(line)
                self._parser.feed(line)
        self._text_dirty = True

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

    def _wanted(self, view: DeploymentView, outcome: str | None = None) -> Wanted:
        return Wanted(
            view=view,
            output=self._output(view, final=outcome is not None),
            outcome=outcome,
            started_at=self._started_at,
            completed_at=self._now() if outcome is not None else None,
            text_changed=self._text_dirty,
        )

    async def _push(self, outcome: str | None = None, **channels: bool) -> None:
        """Send what differs from what GitHub was last told; one push at a time."""
        assert self._sync is not None and self._view is not None
        async with self._lock:
            wanted = self._wanted(self._view, outcome)
            self._last_flush, self._dirty, self._text_dirty = self._clock(), False, False
            # one comment create or update per deployment: the check run and status show
            # progress, the comment the outcome (and the URL)
            channels.setdefault("comment", wanted.final)
            await self._sync.push(wanted, **channels)

    async def _queued(self) -> None:
        assert self._view is not None
        self._view = dataclasses.replace(self._view, state="queued")
        self._dirty = True
        self._last_flush = self._clock()  # the log's flush interval counts from here
        # shown within the state delay, so a run that is over by then costs one report
        self._arm(self._clock() + self._state_delay)

    async def _phase(self, event: PhaseStarted) -> None:
        assert self._view is not None
        state = "deploying" if event.phase in DEPLOY_PHASES else "building"
        self._view = dataclasses.replace(self._view, state=state, phase=event.phase)
        if self._started_at is None:
            self._started_at = event.at
        self._dirty = True
        # a fast run's intermediate states collapse into its final report
        self._arm(self._clock() + self._state_delay)

    def _arm(self, due: float) -> None:
        """Push at `due` (monotonic) unless a push is already due sooner."""
        if self._timer is not None and not self._timer.done():
            if self._due <= due:
                return
            self._timer.cancel()
        self._due = due
        self._timer = asyncio.create_task(self._flush_at(due), name=f"report-{self.deployment_id}")

    async def _flush_at(self, due: float) -> None:
        while self._clock() < due:
            await self._sleep(due - self._clock())
        if self._dirty or self._text_dirty:
            try:
                await self._push()
            except Exception:
                log.exception("reporting deployment %s failed", self.deployment_id)

    async def _maybe_flush(self) -> None:
        # log text is refreshed at most once per flush interval, whatever the log's length
        if self._started_at is None:
            return
        due = self._last_flush + self._interval
        if self._clock() >= due and not self._lock.locked():
            await self._push()  # overdue: a log that never pauses still gets its updates
        else:
            self._arm(due)

    async def _finished(self, event: Finished) -> None:
        assert self._view is not None
        # a push under way finishes (the final one waits for it); a pending one is dropped
        if self._timer is not None and not self._lock.locked():
            self._timer.cancel()
        last = self._lines.flush()
        if last is not None:
            self._tail.append(last)
            self._parser.feed(last)
        row, _ = await self._records.deployment(self._view.id)
        self._view = dataclasses.replace(
            self._view_of(row),
            state=event.state,
            url=event.url or row.url,
            reason=event.reason or row.reason,
            facts=dict(event.facts),
        )
        self._text_dirty = True
        await self._push(event.outcome)

    async def _held(self, event: Held) -> None:
        """Built and held for its checks: shown now, with the pull request's comment."""
        assert self._view is not None
        if self._timer is not None and not self._lock.locked():
            self._timer.cancel()
        row, _ = await self._records.deployment(self._view.id)
        self._view = dataclasses.replace(self._view_of(row), state=event.state, reason=event.reason)
        if self._started_at is None:
            self._started_at = row.started_at or self._now()
        await self._push(comment=True)

    async def flush(self) -> None:
        """Push the current state now (a catch-up while the deployment is still running)."""
        if self._sync is not None and self._view is not None:
            await self._push()

    async def catch_up(self) -> None:
        """Bring GitHub to the deployment's latest stored state (after a rate limit)."""
        if not await self._load() or self._view is None:
            return
        for line in await self._records.log_tail(self._view.id, CATCH_UP_LINES):
            self._take_line(line)
        final = self._view.state in OUTCOMES
        if self._view.state != "queued":
            self._started_at = self._started_at or self._now()
        self._text_dirty = False
        outcome = OUTCOMES.get(self._view.state) if final else None
        await self._push(outcome)

    async def _comment(self) -> None:
        target = self._target
        if target is None or target.pr_number is None or self._gh is None:
            return
        await sync_comment(self._gh, target, self._records, self._ledger, self._masker.mask, self._sticky)

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
