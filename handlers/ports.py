"""The GitHub calls handlers make, as a narrow Protocol (handlers never import the bot).

`bot.github`'s real client, its dry run and the test doubles all satisfy it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

Reaction = Literal["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"]


@dataclass(frozen=True, slots=True)
class CommitCheck:
    """One check on a commit: a check run (status queued/in_progress/completed, conclusion) or
    a commit status (status `pending` or `completed`, conclusion its state)."""

    name: str
    status: str
    conclusion: str | None = None


class GitHubPort(Protocol):
    """Calls made as the delivery's installation; `repo` is `owner/name`."""

    async def create_reaction(self, repo: str, comment_id: int, content: Reaction) -> None:
        """React to an issue or pull request comment."""
        ...

    async def create_issue_comment(self, repo: str, number: int, body: str) -> object:
        """Post a comment on an issue or pull request."""
        ...

    async def get_collaborator_permission(self, repo: str, username: str) -> str:
        """admin, maintain, write, triage, read, or none for someone who is not a collaborator."""
        ...

    async def root_files(self, repo: str, ref: str) -> dict[str, str]:
        """The regular files at the root of `repo` at `ref` (branch, tag or sha): name → blob sha;
        empty for an empty repository or an unknown ref."""
        ...

    async def blob_text(self, repo: str, sha: str) -> str | None:
        """The text of the blob `sha`; None when it is binary."""
        ...

    async def list_required_checks(self, repo: str, branch: str) -> list[str]:
        """The checks the branch's rulesets and branch protection require (their names)."""
        ...

    async def list_commit_checks(self, repo: str, sha: str) -> list[CommitCheck]:
        """The latest check run of each name and the latest status of each context on `sha`."""
        ...

    async def list_pull_request_files(self, repo: str, number: int) -> list[str] | None:
        """The paths a pull request changes, renamed files' old paths too (at most 3000);
        None when they cannot be known."""
        ...

    async def compare_files(self, repo: str, base: str, head: str) -> list[str] | None:
        """The paths changed from `base` to `head` (at most 300); None when `base` is unknown."""
        ...
