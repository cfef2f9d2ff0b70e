"""What a command is (its declaration) and what running one takes and gives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from handlers.context import Context
from handlers.permissions import Requirement
from handlers.project_lookup import ProjectRef


@dataclass(frozen=True, slots=True)
class Invocation:
    """One command line of a comment: `/rollback 42` → name `rollback`, args `("42",)`;
    `/rollback api 42` in a monorepo → app `api` too."""

    name: str
    args: tuple[str, ...] = ()
    app: str | None = None  # the monorepo app named first, None when none was

    @property
    def text(self) -> str:
        """The command as the user would write it."""
        return " ".join((f"/{self.name}", *([self.app] if self.app else []), *self.args))


@dataclass(frozen=True, slots=True)
class Call:
    """Everything a runner may use: who asked, where, and about which pull request or deployment."""

    ctx: Context
    project: ProjectRef
    actor: str
    args: tuple[str, ...] = ()
    pr_number: int | None = None
    pr_open: bool = True
    # when the request was written (a comment's created_at): approvals must postdate the head
    requested_at: datetime | None = None
    # set when the request came from a check run: the deployment and environment it reports
    deployment_id: int | None = None
    environment: str | None = None
    # the monorepo's app names (empty for a one-app repository), for replies that list them
    apps: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a command went; `message` is replied on the pull request when there is one."""

    ok: bool
    message: str | None = None


Runner = Callable[[Call], Awaitable[Outcome]]
# Which apps of a monorepo a command without an app acts on: those the pull request has a
# preview of, every app, only one named app (it asks which), or none (it is about AutoStack).
AppScope = Literal["previewed", "every", "named", "none"]


@dataclass(frozen=True, slots=True)
class Command:
    """One command's declaration; `/help` and the docs are rendered from these."""

    name: str
    usage: str
    description: str
    requires: Requirement
    runner: Runner
    max_args: int = 0
    # the words after `max_args` are free text (a `/lock` reason), not too many arguments
    free_text: bool = False
    # when some arguments need more than `requires` (`/deploy production`)
    escalate: Callable[[tuple[str, ...]], Requirement] | None = None
    apps: AppScope = "previewed"
    # listed on the sticky comment's line of commands, as a reminder
    sticky: bool = False

    def requirement(self, args: tuple[str, ...]) -> Requirement:
        """What running the command with these arguments requires."""
        return self.escalate(args) if self.escalate is not None else self.requires

    def usage_for(self, apps: tuple[str, ...] = ()) -> str:
        """The usage line; in a monorepo (`apps`) with the optional app after the name."""
        if not apps or self.apps == "none":
            return self.usage
        name, _, rest = self.usage.partition(" ")
        return " ".join(part for part in (name, "[<app>]", rest) if part)
