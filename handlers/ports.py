"""The GitHub calls handlers make, as a narrow Protocol (handlers never import the bot).

`bot.github`'s real client, its dry run and the test doubles all satisfy it.
"""

from __future__ import annotations

from typing import Literal, Protocol

Reaction = Literal["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"]


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

    async def get_file_text(self, repo: str, path: str, ref: str | None = None) -> str | None:
        """A file's text at `ref` (the default branch when None); None when there is no such file."""
        ...

    async def list_pull_request_files(self, repo: str, number: int) -> list[str] | None:
        """The paths a pull request changes, renamed files' old paths too (at most 3000);
        None when they cannot be known."""
        ...

    async def compare_files(self, repo: str, base: str, head: str) -> list[str] | None:
        """The paths changed from `base` to `head` (at most 300); None when `base` is unknown."""
        ...
