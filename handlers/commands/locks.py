"""`/lock [env] [reason]` and `/unlock [env]`: freeze an environment against automatic deploys.

A locked environment takes no push or pull-request update; an explicit `/deploy` still
deploys it and keeps a `/lock` in place (a hotfix during an incident stays frozen after).
"""

from __future__ import annotations

from handlers.commands.spec import Call, Outcome
from store import environment_names as environments
from store import locks
from store.db import transaction

MAX_REASON = 500


def lock_target(args: tuple[str, ...], pr_number: int | None) -> tuple[str, str | None] | str:
    """(environment, reason) of `/lock` arguments, or what is wrong with them.

    The first word names the environment when it is one (`preview` is the pull request's
    own); otherwise everything is the reason and production is locked.
    """
    if not args:
        return environments.PRODUCTION, None
    first = args[0].lower()
    if first == "preview":
        if pr_number is None:
            return "`preview` means a pull request's preview; name the environment instead."
        name, rest = environments.preview_name(pr_number), args[1:]
    elif environments.is_valid(first):
        name, rest = first, args[1:]
    else:
        name, rest = environments.PRODUCTION, args
    reason = " ".join(rest) or None
    if reason is not None and len(reason) > MAX_REASON:
        return f"A lock reason is at most {MAX_REASON} characters."
    return name, reason


async def lock_command(call: Call) -> Outcome:
    """Lock an environment (production by default) under the commenter's name."""
    target = lock_target(call.args, call.pr_number)
    if isinstance(target, str):
        return Outcome(False, target)
    name, reason = target
    async with transaction(call.ctx.sessions) as tx:
        row = await locks.lock(tx, call.project.id, name, call.actor, reason)
        text = locks.describe(row, call.project.app)
    call.ctx.log.info("%s locked %s of %s", call.actor, name, call.project.name)
    return Outcome(True, f"🔒 {text}.")


async def unlock_command(call: Call) -> Outcome:
    """Remove an environment's lock; the next push or pull-request update deploys again."""
    target = lock_target(call.args[:1], call.pr_number)
    if isinstance(target, str):
        return Outcome(False, target)
    name, _ = target
    if call.args and name == environments.PRODUCTION and call.args[0].lower() != name:
        return Outcome(False, f"`{call.args[0]}` is not an environment; use production, preview or pr-<n>.")
    async with transaction(call.ctx.sessions) as tx:
        removed = await locks.unlock(tx, call.project.id, name)
    if not removed:
        return Outcome(False, f"`{name}` is not locked.")
    return Outcome(True, f"🔓 {name} is unlocked; the next push deploys it again.")
