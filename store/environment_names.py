"""Environment names (docs/product.md §2): `production`, `pr-<n>`, `branch-<slug>`. Pure.

Every layer names environments: the store (locks, domains), the deployer's targets (hosts,
image tags), handlers and pages. This, the lowest of them, is where the names are spelled.
"""

from __future__ import annotations

import hashlib
import re

PRODUCTION = "production"
PREVIEW_PREFIX = "pr-"
BRANCH_PREFIX = "branch-"
GITHUB_PREVIEW = "Preview"
# Names become DNS labels (`<slug>--<project>.<domain>`), so they stay short and plain.
_MAX_SLUG = 40
_NOT_DNS = re.compile(r"[^a-z0-9]+")
_PREVIEW = re.compile(rf"^{PREVIEW_PREFIX}([1-9][0-9]{{0,9}})$")
_BRANCH = re.compile(rf"^{BRANCH_PREFIX}[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def preview_name(pr_number: int) -> str:
    """The preview environment of a pull request: `pr-12`."""
    return f"{PREVIEW_PREFIX}{pr_number}"


def github_environment(name: str) -> str:
    """The GitHub Environment an environment's Deployments are reported under: every preview
    shares `Preview` (GitHub keeps an environment until someone deletes it by hand, so one per
    pull request piles up); production and branches keep their own name."""
    return GITHUB_PREVIEW if preview_number(name) is not None else name


def branch_slug(branch: str) -> str:
    """A DNS-safe slug of a branch name: `feature/Login_v2` → `feature-login-v2`.

    Long names are cut and given a short hash of the full name, so two long branches that
    share a prefix still get different environments.
    """
    slug = _NOT_DNS.sub("-", branch.lower()).strip("-") or "branch"
    if len(slug) <= _MAX_SLUG:
        return slug
    digest = hashlib.sha256(branch.encode()).hexdigest()[:6]
    return f"{slug[: _MAX_SLUG - 7].rstrip('-')}-{digest}"


def branch_name(branch: str) -> str:
    """The environment of a branch listed in `autostack.yml`: `branch-<slug>`."""
    return f"{BRANCH_PREFIX}{branch_slug(branch)}"


def preview_number(name: str) -> int | None:
    """The pull request number of a `pr-<n>` name, else None."""
    match = _PREVIEW.match(name)
    return int(match.group(1)) if match else None


def is_valid(name: str) -> bool:
    """Whether `name` is an environment name AutoStack makes."""
    return name == PRODUCTION or bool(_PREVIEW.match(name)) or bool(_BRANCH.match(name))


def environment_kind(name: str) -> str:
    """production, preview (pr-<n>, preview) or branch (branch-<slug>)."""
    if name == PRODUCTION:
        return "production"
    return "branch" if name.startswith(BRANCH_PREFIX) else "preview"


def host_label(name: str) -> str:
    """The label an environment's host starts with, before `--<project>`: `pr-7` for a preview,
    the slug for `branch-<slug>` (production's host is the project's own, without one)."""
    return name.removeprefix(BRANCH_PREFIX)


def from_host_label(label: str) -> str:
    """The environment a host's label stands for: the inverse of `host_label`."""
    return label if preview_number(label) is not None else f"{BRANCH_PREFIX}{label}"


def branch_of(ref: str) -> str | None:
    """`refs/heads/main` → `main`; None for tags and other refs."""
    prefix = "refs/heads/"
    return ref[len(prefix) :] if ref.startswith(prefix) else None
