"""check_suite: GitHub's "Re-run all checks" re-runs every AutoStack check run in the suite.

GitHub sends `check_suite.rerequested` only to the App that owns the suite, so the suite is
AutoStack's: its check runs are the ones reporting deployments of the suite's head commit.
Each environment's latest such deployment is redeployed, as "Re-run" on its check run does.
"""

from __future__ import annotations

from typing import Any

from handlers.check_run import run_for
from handlers.context import Context
from handlers.project_lookup import ProjectRef, project_for
from handlers.router import EventRouter
from store import repo_apps
from store.check_suites import reported_deployments
from store.db import reading
from store.models import Deployment

router = EventRouter()


def latest_per_environment(deployments: list[Deployment]) -> list[Deployment]:
    """The newest deployment of each environment, in the order they were made."""
    latest: dict[str, Deployment] = {}
    for deployment in sorted(deployments, key=lambda d: d.id):
        latest.pop(deployment.environment, None)
        latest[deployment.environment] = deployment
    return list(latest.values())


@router.on("check_suite.rerequested")
async def on_rerun_all(ctx: Context) -> None:
    """ "Re-run all checks": redeploy the suite's commit in every environment (of every app)
    it was reported in."""
    suite = ctx.payload["check_suite"]
    head_sha = suite.get("head_sha")
    if ctx.github is None or not head_sha:
        return
    apps = await repo_apps.apps_reported_on(ctx.sessions, (ctx.repository or {}).get("id", 0), head_sha)
    if not apps:
        ctx.log.info("check suite %s reports no deployment", suite.get("id"))
    for app in apps:
        project = await project_for(ctx, app)
        if project is not None:
            await _rerun(ctx, project, head_sha, suite.get("pull_requests") or [])


async def _rerun(ctx: Context, project: ProjectRef, head_sha: str, pulls: list[dict[str, Any]]) -> None:
    async with reading(ctx.sessions) as tx:
        reported = await reported_deployments(tx, project.id, head_sha)
    for deployment in latest_per_environment(reported):
        await run_for(ctx, project, deployment, pulls, "redeploy")
