"""The jobs handlers hand to the bot's deploy queue, with the ids that make them run once."""

from __future__ import annotations

from handlers.context import Context

# the jobs of `deploy.after: checks`, by name (the bot's deploy queue runs them)
RELEASE_DEPLOYMENT = "release_deployment"
REPORT_CHECKS = "report_checks"


async def run_deployment(ctx: Context, deployment_id: int) -> None:
    """Build (or reuse a build) and release a queued deployment."""
    await ctx.jobs.enqueue("run_deployment", deployment_id, job_id=f"deployment-{deployment_id}")


async def report_held(ctx: Context, deployment_id: int) -> None:
    """Report a deployment a lock held back (check run, status, sticky comment); nothing runs."""
    await ctx.jobs.enqueue("report_held", deployment_id, job_id=f"held-{deployment_id}")


async def release_deployment(ctx: Context, deployment_id: int) -> None:
    """Let a deployment that waited for its checks go live (they passed)."""
    await ctx.jobs.enqueue(RELEASE_DEPLOYMENT, deployment_id, job_id=f"release-{deployment_id}")


async def report_checks(ctx: Context, deployment_id: int) -> None:
    """Report a parked deployment that went from waiting to blocked by a check, or back."""
    await ctx.jobs.enqueue(REPORT_CHECKS, deployment_id, job_id=f"checks-{deployment_id}-{ctx.delivery_id}")


async def destroy_environment(ctx: Context, project_id: int, environment: str) -> None:
    """Stop the environment's app, cancel what is building there, mark its Deployments inactive."""
    await ctx.jobs.enqueue(
        "destroy_environment",
        project_id,
        environment,
        job_id=f"destroy-{project_id}-{environment}-{ctx.delivery_id}",
    )


async def refresh_pr_comment(ctx: Context, project_id: int, pr_number: int) -> None:
    """Re-render the pull request's sticky comment from the store."""
    await ctx.jobs.enqueue(
        "refresh_pr_comment",
        project_id,
        pr_number,
        job_id=f"comment-{project_id}-{pr_number}-{ctx.delivery_id}",
    )
