"""Environment names (docs/product.md §2): `production`, `pr-<n>`, `branch-<slug>`. Pure."""

from __future__ import annotations

import hashlib
import re

PRODUCTION = "production"
GITHUB_PREVIEW = "Preview"
# Names become DNS labels (`<slug>--<project>.<domain>`), so they stay short and plain.
_MAX_SLUG = 40
_NOT_DNS = re.compile(r"[^a-z0-9]+")
_PREVIEW = re.compile(r"^pr-([1-9][0-9]{0,9})$")
_BRANCH = re.compile(r"^branch-[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def preview_name(pr_number: int) -> str:
    """The preview environment of a pull request: `pr-12`."""
    return f"pr-{pr_number}"


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
    return f"branch-{branch_slug(branch)}"


def preview_number(name: str) -> int | None:
    """The pull request number of a `pr-<n>` name, else None."""
    match = _PREVIEW.match(name)
    return int(match.group(1)) if match else None


def is_valid(name: str) -> bool:
    """Whether `name` is an environment name AutoStack makes."""
    return name == PRODUCTION or bool(_PREVIEW.match(name)) or bool(_BRANCH.match(name))


def branch_of(ref: str) -> str | None:
    """`refs/heads/main` → `main`; None for tags and other refs."""
    prefix = "refs/heads/"
    return ref[len(prefix) :] if ref.startswith(prefix) else None
