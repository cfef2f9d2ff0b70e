"""Running parsed commands: authorize every one first, then run them in order, then report.

A refusal names the permission needed and nothing in the comment runs, so a comment never
half-happens because its author could do only part of it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from handlers.commands.activity import log_command
from handlers.commands.registry import BY_NAME
from handlers.commands.spec import Call
from handlers.commands.targets import Step
from handlers.permissions import allows, needed_level, refusal
from handlers.ports import GitHubPort
from store.errors import PermanentError


@dataclass(frozen=True)
class Feedback:
    """Where outcomes go: reactions on the command's comment, replies on its pull request."""

    github: GitHubPort
    repo: str
    pr_number: int | None
    comment_id: int | None
    log: logging.LoggerAdapter[logging.Logger]

    async def received(self) -> None:
        """👀: the command was seen."""
        if self.comment_id is not None:
            await self.github.create_reaction(self.repo, self.comment_id, "eyes")

    async def reply(self, text: str) -> None:
        """Answer on the pull request; without one (a check run on a push) the log keeps it."""
        if self.pr_number is not None:
            await self.github.create_issue_comment(self.repo, self.pr_number, text)
        else:
            self.log.info("command reply with no pull request to post on: %s", text)

    async def concluded(self, ok: bool) -> None:
        """🚀 when everything asked was done, 😕 when something was refused or failed."""
        if self.comment_id is not None:
            await self.github.create_reaction(self.repo, self.comment_id, "rocket" if ok else "confused")


async def _refusals(call: Call, github: GitHubPort, steps: list[Step]) -> list[str]:
    ctx, repo = call.ctx, call.project.repo
    refused: list[str] = []
    for invocation in dict.fromkeys(step.invocation for step in steps):
        command = BY_NAME[invocation.name]
        needed = needed_level(command.requirement(invocation.args), ctx.settings.production_permission)
        if needed == "none":
            continue
        granted = await ctx.permissions.level(github, repo, call.actor)
        if not allows(granted, needed):
            refused.append(refusal(call.actor, invocation.text, needed, granted, repo))
    return refused


async def execute(call: Call, steps: list[Step], feedback: Feedback) -> bool:
    """Authorize and run `steps` as `call.actor`; True when all of them succeeded. In a
    monorepo each reply says which app it is about."""
    ctx = call.ctx
    if ctx.github is None:
        raise PermanentError("commands need the installation's GitHub client to check permissions")
    refused = await _refusals(call, ctx.github, steps)
    if refused:
        ctx.log.info("commands by %s refused: %s", call.actor, [s.invocation.text for s in steps])
        await feedback.reply("\n".join([*refused, "", "Nothing was run."]))
        await feedback.concluded(False)
        return False
    messages: list[str] = []
    ok = True
    try:
        for step in steps:
            invocation, mine = step.invocation, replace(call, project=step.project, args=step.invocation.args)
            outcome = await BY_NAME[invocation.name].runner(mine)
            ctx.log.info(
                "command %s by %s on %s: %s",
                invocation.text,
                call.actor,
                step.project.name,
                "done" if outcome.ok else "not done",
            )
            await log_command(mine, invocation, outcome)
            ok = ok and outcome.ok
            if outcome.message:
                app = step.project.app if BY_NAME[invocation.name].apps != "none" else ""
                messages.append(f"**{app}**: {outcome.message}" if app else outcome.message)
    except Exception:
        await feedback.concluded(False)
        raise
    if messages:
        await feedback.reply("\n\n".join(messages))
    await feedback.concluded(ok)
    return ok
