"""What a project and an environment may be called; shared by the deploy API and the CLI, which
checks before it builds a URL from them."""

from __future__ import annotations

import re

from store.environment_names import BRANCH_PREFIX, PREVIEW_PREFIX, PRODUCTION

PROJECT = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
ENVIRONMENT = re.compile(rf"^({PRODUCTION}|preview|{PREVIEW_PREFIX}[0-9]+|{BRANCH_PREFIX}[a-z0-9-]{{1,40}})$")


def name_problem(project: str, environment: str | None = None) -> str | None:
    """What is wrong with the names, or None when both are allowed."""
    if not PROJECT.match(project):
        return f"project {project!r} is not allowed; use lowercase letters, digits and dashes (at most 63)"
    if environment is not None and not ENVIRONMENT.match(environment):
        allowed = "production, preview, pr-<number> or branch-<slug>"
        return f"environment {environment!r} is not allowed; use {allowed}"
    return None
