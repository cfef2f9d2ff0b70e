"""Every command's declaration, in the order `/help` lists them; help is rendered from here."""

from __future__ import annotations

from handlers.commands import parser
from handlers.commands.deploy import deploy, deploy_requirement, destroy, redeploy
from handlers.commands.locks import lock_command, unlock_command
from handlers.commands.releases import promote_command, rollback_command
from handlers.commands.spec import Call, Command, Outcome
from handlers.commands.status import status
from handlers.permissions import ProductionLevel, needed_level


async def _help(call: Call) -> Outcome:
    return Outcome(True, help_text(call.ctx.settings.production_permission, call.apps))


COMMANDS: tuple[Command, ...] = (
    Command(
        "deploy",
        "/deploy [preview|production|<env>]",
        "Build this pull request's head into its preview (the default) or another environment; "
        "on a fork's pull request this approves the head commit.",
        "write",
        deploy,
        max_args=1,
        escalate=deploy_requirement,
    ),
    Command(
        "redeploy",
        "/redeploy",
        "Build the same commit again (after an env var change, say).",
        "write",
        redeploy,
        sticky=True,
    ),
    Command(
        "rollback",
        "/rollback [<deployment>|<sha>]",
        "Put production back on an earlier live build (the previous one by default); no rebuild.",
        "production",
        rollback_command,
        max_args=1,
        apps="named",
    ),
    Command(
        "promote",
        "/promote",
        "Put this preview's live build into production; no rebuild.",
        "production",
        promote_command,
        sticky=True,
    ),
    Command(
        "lock",
        "/lock [production|preview|<env>] [reason]",
        "Stop pushes and pull request updates deploying an environment (production by default); "
        "an explicit `/deploy` still does.",
        "production",
        lock_command,
        max_args=1,
        free_text=True,
        apps="every",
    ),
    Command(
        "unlock",
        "/unlock [production|preview|<env>]",
        "Let automatic deploys into the environment resume.",
        "production",
        unlock_command,
        max_args=1,
        apps="every",
    ),
    Command(
        "destroy", "/destroy", "Tear this pull request's preview down.", "production", destroy, sticky=True
    ),
    Command(
        "status",
        "/status",
        "Show the preview and production: state, commit, URL.",
        "anyone",
        status,
        apps="every",
    ),
    Command("help", "/help", "Show this help.", "anyone", _help, apps="none", sticky=True),
)
BY_NAME = {command.name: command for command in COMMANDS}


def _names(scope: str) -> str:
    return ", ".join(f"`/{c.name}`" for c in COMMANDS if c.apps == scope)


def apps_note(apps: tuple[str, ...]) -> str:
    """How a monorepo's commands pick their app, for `/help`."""
    listed = ", ".join(f"`{app}`" for app in apps)
    return (
        f"This repository has several apps ({listed}): name one after the command, as in "
        f"`/deploy {apps[0]} production`. Without one, {_names('previewed')} act on each app this "
        f"pull request has a preview of, {_names('every')} on every app, and {_names('named')} "
        "asks which app."
    )


def command_hint(apps: tuple[str, ...] = ()) -> str:
    """The sticky comment's line of commands (with the app form in a monorepo)."""
    shown = [command for command in COMMANDS if command.sticky]
    words = [f"`/{c.name}{' [<app>]' if apps and c.apps != 'none' else ''}`" for c in shown]
    listed = f" (apps: {', '.join(f'`{app}`' for app in apps)})" if apps else ""
    return f"Commands: {' · '.join(words)}{listed}"


def help_text(production: ProductionLevel = "maintain", apps: tuple[str, ...] = ()) -> str:
    """The command reference replied to `/help` and to mistakes (`apps`: a monorepo's)."""
    lines = ["**AutoStack commands** (one per line; also as `/autostack <command>`)", ""]
    lines += ["| command | what it does | who may |", "|---|---|---|"]
    for command in COMMANDS:
        level = needed_level(command.requires, production)
        who = "anyone" if level == "none" else f"{level} access"
        if command.escalate is not None:
            who += f" ({needed_level('production', production)} for other environments)"
        lines.append(f"| `{command.usage_for(apps)}` | {command.description} | {who} |")
    if apps:
        lines += ["", apps_note(apps)]
    return "\n".join(lines)


def parse_comment(
    text: str, production: ProductionLevel = "maintain", apps: tuple[str, ...] = ()
) -> parser.Parsed:
    """Parse a comment against AutoStack's commands (`apps`: a monorepo's app names)."""
    return parser.parse(text, COMMANDS, lambda: help_text(production, apps), apps)
