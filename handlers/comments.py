"""issue_comment: commands in pull request comments (docs/product.md §4)."""

from __future__ import annotations

from typing import Any

from handlers.commands.execute import Feedback, execute
from handlers.commands.parser import Ignore, Reply, Run
from handlers.commands.registry import parse_comment
from handlers.commands.spec import Call
from handlers.commands.targets import Step, plan
from handlers.context import Context
from handlers.heads import event_time
from handlers.monorepo import repository_projects
from handlers.permissions import PermissionLookupFailed, unchecked
from handlers.project_lookup import ProjectRef
from handlers.router import EventRouter
from store import environment_names as environments
from store import repo_apps
from store.errors import PermanentError

router = EventRouter()


def is_bot(user: dict[str, Any]) -> bool:
    """Bots (this App included) never give commands: their comments may quote ours."""
    return user.get("type") == "Bot" or str(user.get("login", "")).endswith("[bot]")


async def _command(ctx: Context) -> tuple[Run | Reply, Feedback] | None:
    """The comment's commands (read without apps: enough to know there are some) and where
    feedback goes; None when not ours."""
    issue, comment = ctx.payload["issue"], ctx.payload["comment"]
    user = comment.get("user") or {}
    if "pull_request" not in issue or is_bot(user):
        return None
    parsed = parse_comment(comment.get("body") or "", ctx.settings.production_permission)
    if isinstance(parsed, Ignore):
        return None
    repo = ctx.repository or {}
    if "full_name" not in repo or ctx.github is None:
        ctx.log.info("command comment ignored: no repository or GitHub client")
        return None
    if await repo_apps.all_archived(ctx.sessions, repo.get("id", 0)):
        ctx.log.info("command comment ignored: the repository's projects are archived")
        return None
    return parsed, Feedback(ctx.github, repo["full_name"], issue["number"], comment["id"], ctx.log)


async def _previewed(ctx: Context, pr_number: int) -> list[str]:
    """The apps that have seen a commit of the pull request (its preview's head)."""
    repo_id = (ctx.repository or {}).get("id", 0)
    return await repo_apps.apps_with_environment(ctx.sessions, repo_id, environments.preview_name(pr_number))


def _text(parsed: Reply | Ignore | Run) -> str:
    return parsed.text if isinstance(parsed, Reply) else ""


async def _projects(ctx: Context) -> dict[str, ProjectRef]:
    """The repository's live projects by app: one per app of `apps:`, or the only one ("")."""
    return {project.app: project for project in await repository_projects(ctx)}


# Only `created`: edited comments would run a command twice, deleted ones are gone.
# Two routes: the 👀 is a handler of its own, so once it succeeded the delivery's retries
# skip it (the router records it as done) and a comment gets one 👀 however often it is retried.
@router.on("issue_comment.created")
async def acknowledge(ctx: Context) -> None:
    """React 👀 to a command comment: it was seen."""
    found = await _command(ctx)
    if found is not None:
        await found[1].received()


@router.on("issue_comment.created")
async def on_comment(ctx: Context) -> None:
    """Parse a new pull request comment and run, refuse or answer its commands."""
    found = await _command(ctx)
    if found is None:
        return
    feedback, issue, comment = found[1], ctx.payload["issue"], ctx.payload["comment"]
    projects = await _projects(ctx)
    if not projects:
        ctx.log.info("command comment ignored: the repository has no active project")
        return
    apps = tuple(sorted(app for app in projects if app))
    # read again knowing the apps: `/deploy api production` names one
    parsed = parse_comment(comment.get("body") or "", ctx.settings.production_permission, apps)
    steps: list[Step] | str = []
    if isinstance(parsed, Run):
        steps = plan(parsed.invocations, projects, await _previewed(ctx, issue["number"]), issue["number"])
    if isinstance(steps, str) or not isinstance(parsed, Run):
        await feedback.reply(steps + "\nNothing was run." if isinstance(steps, str) else _text(parsed))
        await feedback.concluded(False)
        return
    call = Call(
        ctx,
        steps[0].project,
        comment["user"]["login"],
        pr_number=issue["number"],
        pr_open=issue.get("state") != "closed",
        requested_at=event_time(comment.get("created_at")),
        apps=apps,
    )
    try:
        await execute(call, steps, feedback)
    except PermissionLookupFailed as exc:
        if not ctx.last_attempt:
            raise
        # the last try: say so once instead of leaving the commenter with a lone 👀
        await feedback.reply(unchecked(exc.user, [i.text for i in parsed.invocations]))
        await feedback.concluded(False)
        raise PermanentError(str(exc)) from exc
