"""Claiming a pull request's sticky comment so only one process at a time creates or edits it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.models import StickyComment, utcnow


@dataclass
class CommentClaim:
    """The comment id known for one pull request, held by the caller until the block ends."""

    session: AsyncSession
    repo: str
    pr_number: int
    comment_id: int | None

    async def record(self, comment_id: int) -> None:
        """Remember the comment's id (posted or found) for every process."""
        if comment_id == self.comment_id:
            return
        self.comment_id = comment_id
        await self.session.execute(_upsert(self.session, self.repo, self.pr_number, comment_id))
        if not _holds_lock(self.session):
            await self.session.commit()


def _holds_lock(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _upsert(session: AsyncSession, repo: str, pr_number: int, comment_id: int | None) -> Insert:
    insert = postgresql.insert if _holds_lock(session) else sqlite.insert
    statement = insert(StickyComment).values(
        repo=repo, pr_number=pr_number, comment_id=comment_id, updated_at=utcnow()
    )
    if comment_id is None:
        return statement.on_conflict_do_nothing(index_elements=["repo", "pr_number"])
    return statement.on_conflict_do_update(
        index_elements=["repo", "pr_number"], set_={"comment_id": comment_id, "updated_at": utcnow()}
    )


@asynccontextmanager
async def claimed(
    sessions: async_sessionmaker[AsyncSession], repo: str, pr_number: int
) -> AsyncIterator[CommentClaim]:
    """Hold the pull request's comment for the block.

    On PostgreSQL the row is locked (FOR UPDATE) in one transaction that spans the block, so
    replicas take turns and the second one sees the id the first one recorded. Embedded SQLite
    serves one process, whose own lock is enough: no write transaction is held while GitHub answers.
    """
    async with sessions() as session:
        key = (StickyComment.repo == repo) & (StickyComment.pr_number == pr_number)
        if _holds_lock(session):
            async with session.begin():
                await session.execute(_upsert(session, repo, pr_number, None))
                known = await session.scalar(select(StickyComment.comment_id).where(key).with_for_update())
                yield CommentClaim(session, repo, pr_number, known)
            return
        known = await session.scalar(select(StickyComment.comment_id).where(key))
        await session.commit()
        yield CommentClaim(session, repo, pr_number, known)
