"""The jobs of the bot's deploy queue: each one's name and job-id rule, defined here once.

Handlers and the bot enqueue them only by these names and ids; the bot's deploy worker
registers one function per name (`bot.worker.deploy_jobs.DEPLOY_FUNCTIONS`). A job id makes
arq run a job once: a second enqueue under the same id is refused.
"""

from __future__ import annotations

from handlers.context import Context

RUN_DEPLOYMENT = "run_deployment"
REPORT_HELD = "report_held"
DESTROY_ENVIRONMENT = "destroy_environment"
REFRESH_PR_COMMENT = "refresh_pr_comment"
REFRESH_DOMAINS = "refresh_domains"
REPORT_MERGE_GROUP = "report_merge_group"
REPORT_DEPLOYMENT = "report_deployment"
# the jobs of `deploy.after: checks`
RELEASE_DEPLOYMENT = "release_deployment"
REPORT_CHECKS = "report_checks"
DEPLOY_JOBS = frozenset(
    {
        RUN_DEPLOYMENT,
        REPORT_HELD,
        DESTROY_ENVIRONMENT,
        REFRESH_PR_COMMENT,
        REFRESH_DOMAINS,
        REPORT_MERGE_GROUP,
        REPORT_DEPLOYMENT,
        RELEASE_DEPLOYMENT,
        REPORT_CHECKS,
    }
)


def deployment_job_id(deployment_id: int) -> str:
    """One build per deployment, however often it is queued (again after a lost job)."""
    return f"deployment-{deployment_id}"


def held_job_id(deployment_id: int) -> str:
    """One report per deployment a lock held back."""
    return f"held-{deployment_id}"


def release_job_id(deployment_id: int) -> str:
    """One release per parked deployment whose checks passed."""
    return f"release-{deployment_id}"


def checks_job_id(deployment_id: int, delivery_id: str) -> str:
    """One report of a parked deployment's checks per delivery that changed them."""
    return f"checks-{deployment_id}-{delivery_id}"


def destroy_job_id(project_id: int, environment: str, delivery_id: str) -> str:
    """One destroy of an environment per delivery that asked for it."""
    return f"destroy-{project_id}-{environment}-{delivery_id}"


def comment_job_id(project_id: int, pr_number: int, delivery_id: str) -> str:
    """One refresh of a pull request's sticky comment per delivery."""
    return f"comment-{project_id}-{pr_number}-{delivery_id}"


def merge_group_job_id(project_id: int, environment: str, head_sha: str) -> str:
    """One pass-through report per merge group commit and environment."""
    return f"merge-group-{project_id}-{environment}-{head_sha}"


def report_job_id(deployment_id: int, at: int) -> str:
    """One catch-up report per deployment and second (`at`, a Unix time)."""
    return f"report-{deployment_id}-{at}"


async def run_deployment(ctx: Context, deployment_id: int) -> None:
    """Build (or reuse a build) and release a queued deployment."""
    await ctx.jobs.enqueue(RUN_DEPLOYMENT, deployment_id, job_id=deployment_job_id(deployment_id))


async def report_held(ctx: Context, deployment_id: int) -> None:
    """Report a deployment a lock held back (check run, status, sticky comment); nothing runs."""
    await ctx.jobs.enqueue(REPORT_HELD, deployment_id, job_id=held_job_id(deployment_id))


async def release_deployment(ctx: Context, deployment_id: int) -> None:
    """Let a deployment that waited for its checks go live (they passed)."""
    await ctx.jobs.enqueue(RELEASE_DEPLOYMENT, deployment_id, job_id=release_job_id(deployment_id))


async def report_checks(ctx: Context, deployment_id: int) -> None:
    """Report a parked deployment that went from waiting to blocked by a check, or back."""
    await ctx.jobs.enqueue(REPORT_CHECKS, deployment_id, job_id=checks_job_id(deployment_id, ctx.delivery_id))


async def destroy_environment(ctx: Context, project_id: int, environment: str) -> None:
    """Stop the environment's app, cancel what is building there, mark its Deployments inactive."""
    await ctx.jobs.enqueue(
        DESTROY_ENVIRONMENT,
        project_id,
        environment,
        job_id=destroy_job_id(project_id, environment, ctx.delivery_id),
    )


async def refresh_pr_comment(ctx: Context, project_id: int, pr_number: int) -> None:
    """Re-render the pull request's sticky comment from the store."""
    await ctx.jobs.enqueue(
        REFRESH_PR_COMMENT,
        project_id,
        pr_number,
        job_id=comment_job_id(project_id, pr_number, ctx.delivery_id),
    )


async def report_merge_group(ctx: Context, project_id: int, environment: str, head_sha: str) -> None:
    """Report AutoStack's checks as passed on a merge group's commit, so the queue never waits."""
    await ctx.jobs.enqueue(
        REPORT_MERGE_GROUP,
        project_id,
        environment,
        head_sha,
        job_id=merge_group_job_id(project_id, environment, head_sha),
    )
