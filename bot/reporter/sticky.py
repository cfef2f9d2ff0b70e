"""Finding and editing the one sticky comment per pull request, once across all replicas."""

from __future__ import annotations

import asyncio

from bot.github.api import GitHubAPI
from bot.github.errors import GitHubPermanentError
from bot.reporter.comment import find_sticky
from store.db import Sessions
from store.sticky_comments import CommentClaim, claimed


class StickyComments:
    """Upserts the sticky comment. The comment id lives in the database under a row lock, so
    reporters in other processes reuse it instead of posting a second comment; the local lock
    keeps this process's reporters of one pull request from holding several connections."""

    def __init__(self, sessions: Sessions) -> None:
        self._sessions = sessions
        self._locks: dict[tuple[str, int], asyncio.Lock] = {}

    async def upsert(
        self, github: GitHubAPI, repo: str, number: int, body: str, *, fresh: bool = False
    ) -> int:
        """Edit the pull request's AutoStack comment, or post it if there is none yet; returns its id.

        The claim is the pull request's, whichever project (monorepo app) reports: two apps'
        first deployments take turns, and the second edits the comment the first posted.
        `fresh`: nothing was ever reported on the pull request, so there is no comment to look for."""
        local = self._locks.setdefault((repo, number), asyncio.Lock())
        async with local, claimed(self._sessions, repo, number) as claim:
            if fresh and claim.comment_id is None:
                created = await github.create_issue_comment(repo, number, body)
                await claim.record(created.id)
                return created.id
            return await self._write(github, claim, body)

    async def _write(self, github: GitHubAPI, claim: CommentClaim, body: str) -> int:
        repo, number = claim.repo, claim.pr_number
        if claim.comment_id is not None:
            try:
                await github.update_issue_comment(repo, claim.comment_id, body)
                return claim.comment_id
            except GitHubPermanentError as exc:
                if exc.status != 404:
                    raise
                # Someone deleted it: look again, and post a new one if there is none.
        existing = find_sticky(await github.list_issue_comments(repo, number))
        if existing is not None:
            await claim.record(existing.id)
            if existing.body != body:
                await github.update_issue_comment(repo, existing.id, body)
            return existing.id
        created = await github.create_issue_comment(repo, number, body)
        await claim.record(created.id)
        return created.id
