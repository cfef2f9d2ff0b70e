"""issue_comment: commands in pull request comments (docs/product.md §4)."""

from __future__ import annotations

from typing import Any

from handlers.commands.execute import Feedback, execute
from handlers.commands.parser import Ignore, Reply, Run
from handlers.commands.registry import parse_comment
from handlers.commands.spec import Call
from handlers.context import Context
from handlers.heads import event_time
from handlers.permissions import PermissionLookupFailed, unchecked
from handlers.project_lookup import ProjectRef, project_for
from handlers.router import Router
from store.errors import PermanentError

router = Router()


def is_bot(user: dict[str, Any]) -> bool:
    """Bots (this App included) never give commands: their comments may quote ours."""
    return user.get("type") == "Bot" or str(user.get("login", "")).endswith("[bot]")


async def _command(ctx: Context) -> tuple[Run | Reply, ProjectRef, Feedback] | None:
    """The comment's commands, its project and where feedback goes; None when not ours."""
    issue, comment = ctx.payload["issue"], ctx.payload["comment"]
    user = comment.get("user") or {}
    if "pull_request" not in issue or is_bot(user):
        return None
    parsed = parse_comment(comment.get("body") or "", ctx.settings.production_permission)
    if isinstance(parsed, Ignore):
        return None
    project = await project_for(ctx)
    if project is None or ctx.github is None:
        ctx.log.info("command comment ignored: no active project or GitHub client")
        return None
    return parsed, project, Feedback(ctx.github, project.repo, issue["number"], comment["id"], ctx.log)


# Only `created`: edited comments would run a command twice, deleted ones are gone.
# Two routes: the 👀 is a handler of its own, so once it succeeded the delivery's retries
# skip it (the router records it as done) and a comment gets one 👀 however often it is retried.
@router.on("issue_comment.created")
async def acknowledge(ctx: Context) -> None:
    """React 👀 to a command comment: it was seen."""
    found = await _command(ctx)
    if found is not None:
        await found[2].received()


@router.on("issue_comment.created")
async def on_comment(ctx: Context) -> None:
    """Parse a new pull request comment and run, refuse or answer its commands."""
    found = await _command(ctx)
    if found is None:
        return
    parsed, project, feedback = found
    if isinstance(parsed, Reply):
        await feedback.reply(parsed.text)
        await feedback.concluded(False)
        return
    issue, comment = ctx.payload["issue"], ctx.payload["comment"]
    call = Call(
        ctx,
        project,
        comment["user"]["login"],
        pr_number=issue["number"],
        pr_open=issue.get("state") != "closed",
        requested_at=event_time(comment.get("created_at")),
    )
    try:
        await execute(call, parsed.invocations, feedback)
    except PermissionLookupFailed as exc:
        if not ctx.last_attempt:
            raise
        # the last try: say so once instead of leaving the commenter with a lone 👀
        await feedback.reply(unchecked(exc.user, [i.text for i in parsed.invocations]))
        await feedback.concluded(False)
        raise PermanentError(str(exc)) from exc
