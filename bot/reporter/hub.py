"""One sink per process that hands each deployer event to the reporter of its deployment.

A pipeline run emits events for more than its own deployment (the ones it supersedes), so
events are routed by deployment id; each reporter masks its project's secret values. Events
are queued (bot.reporter.lanes): `emit` returns at once, so a build never waits for GitHub.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.github.api import GitHubApps
from bot.reporter.app_status import report_app_state
from bot.reporter.lanes import Lanes
from bot.reporter.ledger import Ledger, MemoryLedger
from bot.reporter.records import ReportRecords
from bot.reporter.reporter import Reporter
from bot.reporter.sticky import StickyComments
from deployer.events import AppStateChanged, DeployEvent, EnvironmentDestroyed, Finished
from deployer.masking import Masker
from store import reporting
from store.db import Sessions, reading

log = logging.getLogger("autostack.reporter")
SecretsOf = Callable[[int], Awaitable[tuple[str, ...]]]
# how long a stopping process goes on reporting what is queued: well within the grace period
# of a container's stop (30 s on Kubernetes); what is left goes to the catch-up job
DRAIN_SECONDS = 20.0


class ReporterHub:
    """An EventSink fanning events out to per-deployment Reporters, made on first use."""

    def __init__(
        self,
        sessions: Sessions,
        github: GitHubApps,
        base_url: str,
        secrets_of: SecretsOf,
        source_roots: tuple[str, ...] = (),
        ledger: Ledger | None = None,
        observe: Callable[[DeployEvent], None] | None = None,
        drain_seconds: float = DRAIN_SECONDS,
    ) -> None:
        self._sessions = sessions
        # a watcher of every event besides GitHub (the phase timer of /metrics)
        self._observe = observe
        # what GitHub was told, shared by every process when it is a RedisLedger
        self._ledger = ledger or MemoryLedger()
        self._github = github
        self._base_url = base_url
        self._secrets_of = secrets_of
        self._source_roots = source_roots
        self._sticky = StickyComments(sessions)
        self._reporters: dict[int, Reporter] = {}
        self._lanes = Lanes(self._report)
        self._drain_seconds = drain_seconds

    async def _masker(self, project_id: int | None) -> Masker:
        return Masker(await self._secrets_of(project_id)) if project_id is not None else Masker()

    def _new_reporter(self, deployment_id: int | None, masker: Masker) -> Reporter:
        return Reporter(
            deployment_id,
            sessions=self._sessions,
            github=self._github,
            base_url=self._base_url,
            masker=masker,
            sticky=self._sticky,
            source_roots=self._source_roots,
            ledger=self._ledger,
        )

    async def _project_of(self, deployment_id: int) -> int | None:
        async with reading(self._sessions) as tx:
            return await reporting.project_of(tx, deployment_id)

    async def reporter(self, deployment_id: int) -> Reporter:
        """The reporter of one deployment (kept until the deployment finishes)."""
        reporter = self._reporters.get(deployment_id)
        if reporter is None:
            masker = await self._masker(await self._project_of(deployment_id))
            reporter = self._reporters[deployment_id] = self._new_reporter(deployment_id, masker)
        return reporter

    async def emit(self, event: DeployEvent) -> None:
        """Queue the event for its reporter; returns at once, never waiting for GitHub."""
        if self._observe is not None:
            self._observe(event)  # timed when it happens, not when its report goes out
        self._lanes.put(event)

    async def _report(self, event: DeployEvent) -> None:
        """Route the event to its reporter (reporters log GitHub trouble themselves)."""
        if isinstance(event, EnvironmentDestroyed):
            await self._new_reporter(None, await self._masker(event.project_id)).emit(event)
            return
        if isinstance(event, AppStateChanged):
            await self._app_state(event)
            return
        await (await self.reporter(event.deployment_id)).emit(event)
        if isinstance(event, Finished):
            self._reporters.pop(event.deployment_id, None)

    async def _app_state(self, event: AppStateChanged) -> None:
        try:
            await report_app_state(
                event,
                records=ReportRecords(self._sessions),
                github=self._github,
                ledger=self._ledger,
                sticky=self._sticky,
                masker_of=self._masker,
                base_url=self._base_url,
            )
        except Exception:
            log.exception("reporting %s/%s as %s failed", event.project, event.environment, event.state)

    async def drained(self) -> None:
        """Wait until every event emitted so far has been reported."""
        await self._lanes.drained()

    async def close(self) -> None:
        """Report what is queued, for up to `drain_seconds`; a deployment whose events are
        left then gets the catch-up job, which brings GitHub to its stored state."""
        for key in await self._lanes.close(self._drain_seconds):
            if not isinstance(key, int):
                log.warning("stopped before reporting that environment %s of project %s went", key[1], key[0])
                continue
            log.warning("stopped before reporting deployment %s; left for the catch-up job", key)
            try:
                await self._ledger.schedule(key, 0)
            except Exception:
                log.exception(
                    "scheduling the catch-up of deployment %s failed", key, extra={"deployment_id": key}
                )

    async def refresh_comment(self, project_id: int, environment: str) -> None:
        """Re-render the sticky comment of an environment's pull request."""
        masker = await self._masker(project_id)
        await self._new_reporter(None, masker).refresh_comment(project_id, environment)

    async def catch_up(self, deployment_id: int) -> None:
        """Bring GitHub to a deployment's latest stored state (the job after a rate limit)."""
        live = self._reporters.get(deployment_id)
        if live is not None:  # still running here: its reporter knows the latest state best
            await live.flush()
            return
        project_id = await self._project_of(deployment_id)
        if project_id is None:
            return
        await self._new_reporter(deployment_id, await self._masker(project_id)).catch_up()
