"""A live app's state change on GitHub: a status on the Deployment that put it live, and the
sticky comment re-rendered (it shows the environment's app state)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC

from bot.github.api import DeploymentState, GitHubApps
from bot.reporter.check_run import clip
from bot.reporter.ledger import Ledger
from bot.reporter.records import ReportRecords
from bot.reporter.sticky import StickyComments
from bot.reporter.sync import sync_comment
from deployer.app_state import CRASHED, LIVE, RESTARTING, UNHEALTHY
from deployer.events import AppStateChanged
from deployer.masking import Masker

# crashed and unhealthy apps serve no one: the deployment failed; a first restart is an error
GITHUB_STATES: dict[str, DeploymentState] = {
    LIVE: "success",
    RESTARTING: "error",
    CRASHED: "failure",
    UNHEALTHY: "failure",
}
LABELS = {LIVE: "Live", RESTARTING: "Restarting", CRASHED: "Crashed", UNHEALTHY: "Unhealthy"}


def describe(event: AppStateChanged, url: str | None) -> str:
    """The Deployment status description (≤ 140 chars): what happened, since when, the last line."""
    if event.state == LIVE:
        return clip(f"Healthy again; live at {url}" if url else "Healthy again")
    since = event.since.astimezone(UTC).strftime("%H:%M:%S UTC")
    last = f"; last line: {event.last_lines[-1]}" if event.last_lines else ""
    return clip(f"{LABELS.get(event.state, event.state)} since {since}: {event.reason}{last}")


def runtime_page(base_url: str, project: str, environment: str) -> str:
    """The environment's runtime log on the page (the Deployment status's log link)."""
    return f"{base_url.rstrip('/')}/projects/{project}/environments/{environment}/runtime"


async def report_app_state(
    event: AppStateChanged,
    *,
    records: ReportRecords,
    github: GitHubApps,
    ledger: Ledger,
    sticky: StickyComments,
    masker_of: Callable[[int], Awaitable[Masker]],
    base_url: str,
) -> None:
    """Tell GitHub about the change; nothing for a project without a repository."""
    row, target = await records.deployment(event.deployment_id)
    if target is None:
        return
    mask = (await masker_of(row.project_id)).mask
    gh = github.installation(target.installation_id)
    state = GITHUB_STATES.get(event.state, "error")
    if row.github_deployment_id is not None:
        await gh.create_deployment_status(
            target.repo,
            row.github_deployment_id,
            state=state,
            description=mask(describe(event, row.url)),
            environment_url=row.url if state == "success" else None,
            log_url=runtime_page(base_url, target.project, target.environment),
        )
    await sync_comment(gh, target, records, ledger, mask, sticky)
