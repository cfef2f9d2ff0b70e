"""Which project each command of a comment acts on: in a monorepo, the app it names, or the
apps its declaration says it acts on without one (pure)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from deployer.apps import DEFAULT_APP
from handlers.commands.registry import BY_NAME
from handlers.commands.spec import Invocation
from handlers.project_lookup import ProjectRef


@dataclass(frozen=True, slots=True)
class Step:
    """One command run against one project."""

    project: ProjectRef
    invocation: Invocation


def plan(
    invocations: tuple[Invocation, ...],
    projects: Mapping[str, ProjectRef],
    previewed: Collection[str] = (),
    pr_number: int | None = None,
) -> list[Step] | str:
    """The steps to run, in order, or why none can run.

    `projects`: the repository's live projects by app (`""` alone for a one-app repository);
    `previewed`: the apps that have seen a commit of the pull request."""
    steps: list[Step] = []
    for invocation in invocations:
        found = _steps(invocation, projects, previewed, pr_number)
        if isinstance(found, str):
            return found
        steps += found
    return steps


def _steps(
    invocation: Invocation,
    projects: Mapping[str, ProjectRef],
    previewed: Collection[str],
    pr_number: int | None,
) -> list[Step] | str:
    apps = sorted(app for app in projects if app != DEFAULT_APP)
    if invocation.app is not None:
        project = projects.get(invocation.app)
        if project is None:
            listed = ", ".join(apps) or "none"
            return f"`{invocation.app}` is not a deployed app of this repository (apps: {listed})."
        return [Step(project, invocation)]
    if not apps:
        return [Step(project, invocation) for project in projects.values()][:1]
    scope, example = BY_NAME[invocation.name].apps, _example(invocation, apps[0])
    if scope == "none":
        return [Step(projects[apps[0]], invocation)]
    if scope == "every":
        return [Step(projects[app], invocation) for app in apps]
    if scope == "previewed":
        chosen = [app for app in apps if app in previewed]
        if chosen:
            return [Step(projects[app], invocation) for app in chosen]
        where = f"#{pr_number} changes none of its apps" if pr_number is not None else "nothing tells which"
        return (
            f"This repository has several apps ({', '.join(apps)}) and {where}: name one, as in `{example}`."
        )
    return f"This repository has several apps ({', '.join(apps)}): name the one to act on, as in `{example}`."


def _example(invocation: Invocation, app: str) -> str:
    return Invocation(invocation.name, invocation.args, app).text
