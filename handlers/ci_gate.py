"""`deploy.after: checks` when a deployment is made: which checks it will wait for.

`deploy.checks` in `autostack.yml` names them; without it, the checks the branch requires
(its rulesets and its branch protection) do. With nothing required the deployment goes
live as soon as it is built, as without `after: checks`.
"""

from __future__ import annotations

from typing import Any

from deployer.config import RepoConfig
from handlers.ci_verdict import waited_for
from handlers.context import Context
from handlers.project_lookup import ProjectRef
from store.check_gates import new_gate

AFTER_CHECKS = "checks"


def gated(config: RepoConfig, *, preview: bool) -> bool:
    """Whether deployments of this kind wait for CI: `previews.after` or `deploy.after`."""
    after = config.previews.after if preview else config.deploy.after
    return after == AFTER_CHECKS


async def gate_for(
    ctx: Context, project: ProjectRef, config: RepoConfig, branch: str, *, preview: bool = False
) -> dict[str, Any] | None:
    """The `checks` value of a new deployment: the checks it waits for, or None to go live at
    once. `branch` is the one whose protection applies (a pull request's base)."""
    if not gated(config, preview=preview) or ctx.github is None:
        return None
    listed = config.deploy.checks
    required = waited_for(listed if listed else await ctx.github.list_required_checks(project.repo, branch))
    if not required:
        ctx.log.info("%s: deploy.after is checks, but %s requires none; not waiting", project.name, branch)
        return None
    return new_gate(required)
