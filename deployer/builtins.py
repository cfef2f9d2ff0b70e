"""The `AUTOSTACK_*` variables every build and run gets, and how they meet the project's own (pure).

They describe the deployment itself (its URL, commit, branch, pull request), so AutoStack sets
them last: a stored variable of the same name is ignored, and the log says so. Letting a stored
value win would make a preview report production's URL or a stale commit, which is exactly
what apps read these for (OAuth callbacks, CORS origins, release tags).
"""

from __future__ import annotations

from dataclasses import dataclass

from store.environment_names import preview_number
from store.models import Deployment, Environment, Project

BUILTIN_NAMES = (
    "AUTOSTACK_URL",
    "AUTOSTACK_ENVIRONMENT",
    "AUTOSTACK_PROJECT",
    "AUTOSTACK_GIT_SHA",
    "AUTOSTACK_GIT_BRANCH",
    "AUTOSTACK_PR_NUMBER",
)


@dataclass(frozen=True, slots=True)
class DeploymentFacts:
    """What the built-in variables are made of."""

    url: str
    project: str
    environment: str
    kind: str  # production | preview | branch
    sha: str | None = None
    branch: str | None = None
    pr_number: int | None = None


def facts_of(url: str, project: Project, environment: Environment, deployment: Deployment) -> DeploymentFacts:
    """The facts of a deployment row (its commit, branch and PR, else its environment's)."""
    return DeploymentFacts(
        url=url,
        project=project.name,
        environment=environment.name,
        kind=environment.kind,
        sha=deployment.commit_sha,
        branch=deployment.ref or environment.branch,
        # a preview's name carries its number, for rows made without one
        pr_number=deployment.pr_number or environment.pr_number or preview_number(environment.name),
    )


def builtin_variables(facts: DeploymentFacts) -> dict[str, str]:
    """The built-in variables of one deployment; AUTOSTACK_PR_NUMBER only for previews."""
    values = {
        "AUTOSTACK_URL": facts.url,
        "AUTOSTACK_ENVIRONMENT": facts.environment,
        "AUTOSTACK_PROJECT": facts.project,
        "AUTOSTACK_GIT_SHA": facts.sha or "",
        "AUTOSTACK_GIT_BRANCH": facts.branch or "",
    }
    if facts.kind == "preview" and facts.pr_number is not None:
        values["AUTOSTACK_PR_NUMBER"] = str(facts.pr_number)
    return values


def with_builtins(values: dict[str, str], builtins: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """`values` with the built-ins set over them, and the names of the stored ones they replaced.

    Every AUTOSTACK_* name listed above is reserved, so a stored AUTOSTACK_PR_NUMBER does not
    reach a production app that has none of its own.
    """
    ignored = sorted(k for k in values if k in BUILTIN_NAMES)
    kept = {k: v for k, v in values.items() if k not in BUILTIN_NAMES}
    return {**kept, **builtins}, ignored
