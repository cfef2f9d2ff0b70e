"""Feedback on command comments: a reaction on receipt, another on the outcome, a reply."""

from __future__ import annotations

from bot.github.api import GitHubAPI
from deployer.masking import Masker


async def acknowledge(github: GitHubAPI, repo: str, comment_id: int) -> None:
    """React with 👀 so the commenter knows the command was seen."""
    await github.create_reaction(repo, comment_id, "eyes")


async def conclude(github: GitHubAPI, repo: str, comment_id: int, *, ok: bool) -> None:
    """React with 🚀 when the command did what was asked, 😕 when it did not."""
    await github.create_reaction(repo, comment_id, "rocket" if ok else "confused")


async def reply(
    github: GitHubAPI, repo: str, number: int, body: str, *, masker: Masker | None = None
) -> None:
    """Answer on the pull request (a refusal, an unknown command, help)."""
    await github.create_issue_comment(repo, number, masker.mask(body) if masker else body)
