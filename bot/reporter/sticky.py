"""Finding and editing the one sticky comment per pull request."""

from __future__ import annotations

import asyncio

from bot.github.api import GitHubAPI
from bot.github.errors import GitHubPermanentError
from bot.reporter.comment import find_sticky


class StickyComments:
    """Upserts the sticky comment; share one per process so concurrent reporters of the same
    pull request take turns and reuse the comment id instead of listing comments again."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, int], int] = {}
        self._locks: dict[tuple[str, int], asyncio.Lock] = {}

    async def upsert(self, github: GitHubAPI, repo: str, number: int, body: str) -> None:
        """Edit the pull request's AutoStack comment, or post it if there is none yet."""
        key = (repo, number)
        async with self._locks.setdefault(key, asyncio.Lock()):
            known = self._ids.get(key)
            if known is not None:
                try:
                    await github.update_issue_comment(repo, known, body)
                    return
                except GitHubPermanentError as exc:
                    if exc.status != 404:
                        raise
                    # Someone deleted it; fall through and look again.
                    del self._ids[key]
            existing = find_sticky(await github.list_issue_comments(repo, number))
            if existing is not None:
                self._ids[key] = existing.id
                if existing.body != body:
                    await github.update_issue_comment(repo, existing.id, body)
                return
            created = await github.create_issue_comment(repo, number, body)
            self._ids[key] = created.id
