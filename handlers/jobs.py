"""The jobs handlers hand to the bot's deploy queue, with the ids that make them run once."""

from __future__ import annotations

from handlers.context import Context


async def run_deployment(ctx: Context, deployment_id: int) -> None:
    """Build (or reuse a build) and release a queued deployment."""
    await ctx.jobs.enqueue("run_deployment", deployment_id, job_id=f"deployment-{deployment_id}")


async def report_held(ctx: Context, deployment_id: int) -> None:
    """Report a deployment a lock held back (check run, status, sticky comment); nothing runs."""
    await ctx.jobs.enqueue("report_held", deployment_id, job_id=f"held-{deployment_id}")


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
