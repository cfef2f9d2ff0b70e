"""Pull-request commands in the team's activity log, next to the same actions taken on the page."""

from __future__ import annotations

from handlers.commands.registry import BY_NAME
from handlers.commands.spec import Call, Invocation, Outcome
from store.activity import add_activity


async def log_command(call: Call, invocation: Invocation, outcome: Outcome) -> None:
    """Record a command that changes something (/deploy, /rollback, /promote, /destroy, ...),
    done or not; those anyone may run (/status, /help) change nothing and stay out."""
    if BY_NAME[invocation.name].requires == "anyone":
        return
    await add_activity(
        call.ctx.sessions,
        actor=call.actor,
        action=invocation.name,
        # the environment a command acts on is its runner's choice (/rollback: production);
        # the entry names the project and where the command was written
        target=call.project.name if call.environment is None else f"{call.project.name}/{call.environment}",
        project_id=call.project.id,
        command=invocation.text,
        done=outcome.ok,
        pr=call.pr_number,
        via="pull request comment" if call.deployment_id is None else "check run",
    )
