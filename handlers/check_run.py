"""check_run: GitHub's "Re-run" and AutoStack's buttons (Redeploy, Rollback, Promote).

They run the same commands as the comments, with the same authorization, for the deployment
the check run reports (its `external_id`).
"""

from __future__ import annotations

from typing import Any

from handlers.check_names import BUTTONS, CHECK_RUN_PREFIX, REDEPLOY
from handlers.commands.execute import Feedback, execute
from handlers.commands.spec import Call, Invocation
from handlers.commands.targets import Step
from handlers.context import Context
from handlers.project_lookup import ProjectRef, project_for
from handlers.router import EventRouter
from store import repo_apps
from store.check_suites import reported_deployment
from store.db import reading
from store.models import Deployment

router = EventRouter()


async def run_for(
    ctx: Context, project: ProjectRef, deployment: Deployment, pulls: list[dict[str, Any]], command: str
) -> None:
    """Run `command` for the deployment a check run reports, as the delivery's sender; replies go
    to its pull request (or the first of `pulls`, the check's pull requests)."""
    if ctx.github is None:
        return
    pr_number = deployment.pr_number or (pulls[0]["number"] if pulls else None)
    call = Call(
        ctx,
        project,
        (ctx.payload.get("sender") or {}).get("login", ""),
        pr_number=pr_number,
        deployment_id=deployment.id,
        environment=deployment.environment,
    )
    feedback = Feedback(ctx.github, project.repo, pr_number, None, ctx.log)
    await execute(call, [Step(project, Invocation(command))], feedback)


async def _run(ctx: Context, command: str) -> None:
    check = ctx.payload["check_run"]
    external = str(check.get("external_id") or "")
    if not check.get("name", "").startswith(CHECK_RUN_PREFIX) or not external.isdigit():
        return  # another app's check run
    # the check's own deployment says which app of a monorepo it reports
    app = await repo_apps.deployment_app(ctx.sessions, (ctx.repository or {}).get("id", 0), int(external))
    project = await project_for(ctx, app) if app is not None else None
    if project is None or ctx.github is None:
        ctx.log.info("check run %s reports no deployment of a live project", check.get("id"))
        return
    async with reading(ctx.sessions) as tx:
        deployment = await reported_deployment(tx, project.id, int(external))
    if deployment is None:
        ctx.log.info("check run %s reports no deployment of %s", check.get("id"), project.name)
        return
    await run_for(ctx, project, deployment, check.get("pull_requests") or [], command)


@router.on("check_run.rerequested")
async def on_rerun(ctx: Context) -> None:
    """ "Re-run" in GitHub's UI redeploys the check run's commit in its environment."""
    await _run(ctx, REDEPLOY.command)


@router.on("check_run.requested_action")
async def on_button(ctx: Context) -> None:
    """A button on the check run: the command of the same name."""
    identifier = (ctx.payload.get("requested_action") or {}).get("identifier", "")
    if identifier in BUTTONS:
        await _run(ctx, identifier)
