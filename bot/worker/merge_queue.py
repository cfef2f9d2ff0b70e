"""Merge queues: AutoStack's checks pass on a merge group's commit, so a queue never waits.

AutoStack deploys a commit after it lands on the branch; there is nothing of its own to
verify on the queue's temporary merge commit. Reporting success there (check run and
commit status, the same names as on ordinary commits) lets teams require them.
"""

from __future__ import annotations

from typing import Any

from bot.github.api import CheckOutput
from bot.services import Services
from handlers.check_names import app_environment, check_name, status_context
from store.models import utcnow
from store.worker_reads import project_by_id

SUMMARY = "AutoStack deploys after merge; nothing to verify for the merge queue."


def merge_group_output(environment: str) -> CheckOutput:
    """What the pass-through check run says, and why."""
    return CheckOutput(
        title=f"{environment} deploys after merge",
        summary=f"### ✅ Nothing to verify for {environment}\n\n{SUMMARY}",
    )


async def report_merge_group_job(
    ctx: dict[str, Any], project_id: int, environment: str, head_sha: str
) -> bool:
    """arq job: a successful `AutoStack / <env>` check run and `autostack/<env>` status on `head_sha`
    (`<app>/<env>` for an app of a monorepo)."""
    services: Services = ctx["services"]
    project = await project_by_id(services.sessions, project_id)
    if project is None or project.full_name is None or project.installation_id is None:
        return False
    github = services.apps.installation(project.installation_id)
    repo, output = project.full_name, merge_group_output(app_environment(environment, project.app))
    details = f"{services.settings.base_url.rstrip('/')}/projects/{project.name}"
    run_id = await github.create_check_run(
        repo,
        name=check_name(environment, project.app),
        head_sha=head_sha,
        status="in_progress",
        external_id="merge-group",
        details_url=details,
        output=output,
    )
    await github.update_check_run(repo, run_id, conclusion="success", output=output, completed_at=utcnow())
    await github.create_commit_status(
        repo,
        head_sha,
        state="success",
        context=status_context(environment, project.app),
        description=SUMMARY,
        target_url=details,
    )
    return True
