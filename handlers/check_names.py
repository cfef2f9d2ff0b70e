"""AutoStack's own check runs and commit statuses: their fixed names and their buttons.

Branch protection requires the names, so they are spelled here only: the reporter names what
it sends with them, and the handlers know AutoStack's own checks by them.
"""

from __future__ import annotations

from dataclasses import dataclass

CHECK_RUN_PREFIX = "AutoStack / "
STATUS_PREFIX = "autostack/"


def app_environment(environment: str, app: str = "") -> str:
    """`<app>/<environment>` for an app of a monorepo; the bare environment for a one-app repository."""
    return f"{app}/{environment}" if app else environment


def check_name(environment: str, app: str = "") -> str:
    """`AutoStack / <environment>` (`AutoStack / <app>/<environment>` in a monorepo): fixed,
    so branch protection can require it."""
    return f"{CHECK_RUN_PREFIX}{app_environment(environment, app)}"


def status_context(environment: str, app: str = "") -> str:
    """`autostack/<environment>` (`autostack/<app>/<environment>` in a monorepo): the commit
    status context."""
    return f"{STATUS_PREFIX}{app_environment(environment, app)}"


def is_autostack(name: str) -> bool:
    """Whether a check run or status context is one AutoStack reports itself."""
    return name.startswith(CHECK_RUN_PREFIX) or name.startswith(STATUS_PREFIX)


@dataclass(frozen=True, slots=True)
class Button:
    """A button on AutoStack's check run. GitHub sends its identifier back with
    `check_run.requested_action`; the identifier is the name of the command it runs."""

    label: str
    description: str
    command: str


REDEPLOY = Button("Redeploy", "Build and deploy this commit again", "redeploy")
ROLLBACK = Button("Rollback", "Return to the previous production", "rollback")
PROMOTE = Button("Promote", "Deploy this build to production", "promote")
BUTTONS = {button.command: button for button in (REDEPLOY, ROLLBACK, PROMOTE)}
