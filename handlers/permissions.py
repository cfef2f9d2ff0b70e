"""Who may run what: the commenter's permission on the repository, asked of GitHub.

Write access deploys previews and redeploys; production, rollback, promote and destroy need
maintain (or admin, when configured). Answers are cached briefly so a comment with several
commands, or a burst of comments, asks GitHub once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from handlers.ports import GitHubPort
from store.errors import TemporaryError

Requirement = Literal["anyone", "write", "production"]
ProductionLevel = Literal["maintain", "admin"]
# GitHub's roles from least to most; "none" is someone who is not a collaborator.
LEVELS = ("none", "read", "triage", "write", "maintain", "admin")


def needed_level(requirement: Requirement, production: ProductionLevel) -> str:
    """The GitHub role a requirement stands for."""
    return {"anyone": "none", "write": "write", "production": production}[requirement]


def allows(granted: str, needed: str) -> bool:
    """Whether a user with role `granted` holds at least `needed`."""
    rank = LEVELS.index(granted) if granted in LEVELS else 0
    return rank >= LEVELS.index(needed)


class PermissionLookupFailed(TemporaryError):
    """GitHub did not say what the user may do (a rate limit, an outage): try again later."""

    def __init__(self, user: str, repo: str, cause: TemporaryError) -> None:
        super().__init__(f"could not look up {user}'s permission on {repo}: {cause}")
        self.user = user
        self.retry_after = cause.retry_after


def unchecked(user: str, commands: list[str]) -> str:
    """The reply when the permission lookup failed for good: nothing ran, and what to do."""
    listed = ", ".join(f"`{command}`" for command in commands)
    return (
        f"@{user} I could not check your permission to run {listed}: GitHub did not answer "
        "the permission lookup after several tries (it may be rate limiting this App). "
        "Nothing was run. Comment the command again in a few minutes."
    )


def refusal(user: str, command: str, needed: str, granted: str, repo: str) -> str:
    """The reply to a refused command: the permission it needs and what the user has."""
    has = "no access" if granted == "none" else f"{granted} access"
    return (
        f"@{user} `{command}` needs **{needed}** access to {repo}; you have {has}. "
        f"Ask someone with {needed} access to run it."
    )


class PermissionCache:
    """Recent answers of GitHub's collaborator-permission call, per (repo, user)."""

    def __init__(self, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._answers: dict[tuple[str, str], tuple[float, str]] = {}

    async def level(self, github: GitHubPort, repo: str, user: str) -> str:
        """The user's role on `repo`, from the cache while fresh, else from GitHub."""
        key = (repo.lower(), user.lower())
        now = self._clock()
        cached = self._answers.get(key)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        try:
            granted = await github.get_collaborator_permission(repo, user)
        except PermissionLookupFailed:
            raise
        except TemporaryError as exc:
            raise PermissionLookupFailed(user, repo, exc) from exc
        self._answers[key] = (now, granted)
        return granted
