"""CI results (`check_run`, `check_suite`, `workflow_run` completed; `status`): deployments of
the commit that wait for their checks are released, blocked, or left waiting.

Each delivery only says the commit changed; the verdict is read from all of the commit's
checks at once, so deliveries that arrive late or out of order decide nothing wrong.
"""

from __future__ import annotations

from typing import Any

from handlers import jobs
from handlers.check_names import is_autostack
from handlers.ci_verdict import verdict
from handlers.context import Context
from handlers.project_lookup import project_for
from handlers.router import EventRouter
from store import check_gates

router = EventRouter()


def subject(event: str, payload: dict[str, Any]) -> tuple[str | None, str | None]:
    """The commit a CI delivery is about, and the check it names (None for suites and runs)."""
    if event == "check_run":
        run = payload.get("check_run") or {}
        return run.get("head_sha"), run.get("name")
    if event == "check_suite":
        return (payload.get("check_suite") or {}).get("head_sha"), None
    if event == "workflow_run":
        return (payload.get("workflow_run") or {}).get("head_sha"), None
    return payload.get("sha"), payload.get("context")


@router.on("check_run.completed", "check_suite.completed", "workflow_run.completed", "status")
async def on_ci_result(ctx: Context) -> None:
    """Decide the commit's waiting deployments from its checks as they are now."""
    sha, name = subject(ctx.event, ctx.payload)
    if not sha or (name is not None and is_autostack(name)):
        return  # AutoStack's own reports never decide anything
    project = await project_for(ctx)
    if project is None or ctx.github is None:
        return
    waiting = await check_gates.gated_deployments(ctx.sessions, project.id, sha)
    if not waiting:
        return
    checks = await ctx.github.list_commit_checks(project.repo, sha)
    for gated in waiting:
        outcome, detail = verdict(gated.required, checks)
        action = await check_gates.record_verdict(ctx.sessions, gated.deployment_id, outcome, detail)
        ctx.log.info("deployment %s of %s: checks %s", gated.deployment_id, sha[:7], detail or outcome)
        if action == check_gates.RELEASE:
            await jobs.release_deployment(ctx, gated.deployment_id)
        elif action == check_gates.REPORT:
            await jobs.report_checks(ctx, gated.deployment_id)
