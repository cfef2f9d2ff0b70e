"""issue_comment: commands in pull request comments (docs/product.md §4)."""

from __future__ import annotations

from typing import Any

from handlers.commands.execute import Feedback, execute
from handlers.commands.parser import Ignore, Reply
from handlers.commands.registry import parse_comment
from handlers.commands.spec import Call
from handlers.context import Context
from handlers.heads import event_time
from handlers.project_lookup import project_for
from handlers.router import Router

router = Router()


def is_bot(user: dict[str, Any]) -> bool:
    """Bots (this App included) never give commands: their comments may quote ours."""
    return user.get("type") == "Bot" or str(user.get("login", "")).endswith("[bot]")


# Only `created`: edited comments would run a command twice, deleted ones are gone.
@router.on("issue_comment.created")
async def on_comment(ctx: Context) -> None:
    """Parse a new pull request comment and run, refuse or answer its commands."""
    issue, comment = ctx.payload["issue"], ctx.payload["comment"]
    user = comment.get("user") or {}
    if "pull_request" not in issue or is_bot(user):
        return
    parsed = parse_comment(comment.get("body") or "", ctx.settings.production_permission)
    if isinstance(parsed, Ignore):
        return
    project = await project_for(ctx)
    if project is None or ctx.github is None:
        ctx.log.info("command comment ignored: no active project or GitHub client")
        return
    feedback = Feedback(ctx.github, project.repo, issue["number"], comment["id"], ctx.log)
    await feedback.received()
    if isinstance(parsed, Reply):
        await feedback.reply(parsed.text)
        await feedback.concluded(False)
        return
    call = Call(
        ctx,
        project,
        user["login"],
        pr_number=issue["number"],
        pr_open=issue.get("state") != "closed",
        requested_at=event_time(comment.get("created_at")),
    )
    await execute(call, parsed.invocations, feedback)
