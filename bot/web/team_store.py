"""Team membership changes: invitations (expiring, single use, stored hashed), roles, removal."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.web.identity import GitHubUser
from store.models import Invitation, Member, utcnow

INVITATION_TTL = timedelta(days=7)


class TeamError(ValueError):
    """A membership change that is not allowed; the message says why."""


def token_hash(token: str) -> str:
    """How invitation and API tokens are stored: their SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


async def create_invitation(
    session: AsyncSession, team_id: int, role: str, created_by: str, email: str | None = None
) -> str:
    """A new invitation; returns the token (shown once, in the link)."""
    token = secrets.token_urlsafe(32)
    session.add(
        Invitation(
            team_id=team_id,
            token_hash=token_hash(token),
            role=role,
            email=email,
            created_by=created_by,
            expires_at=utcnow() + INVITATION_TTL,
        )
    )
    await session.flush()
    return token


async def accept_invitation(session: AsyncSession, token: str, user: GitHubUser) -> Member | None:
    """The user joins the invitation's team (or keeps their membership); None when the link
    is unknown, used or expired."""
    invitation = await session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if invitation is None or invitation.used_at is not None or invitation.expires_at < utcnow():
        return None
    invitation.used_at = utcnow()
    member = await session.scalar(
        select(Member).where(Member.team_id == invitation.team_id, Member.github_user_id == user.id)
    )
    if member is None:
        member = Member(
            team_id=invitation.team_id, github_user_id=user.id, github_login=user.login, role=invitation.role
        )
        session.add(member)
        await session.flush()
    return member


async def _owners(session: AsyncSession, team_id: int) -> int:
    # locks the owner rows (PostgreSQL) so two owners demoting each other at once cannot both
    # pass the check and leave the team with none; SQLite already runs one writer at a time
    owners = await session.scalars(
        select(Member.id).where(Member.team_id == team_id, Member.role == "owner").with_for_update()
    )
    return len(owners.all())


async def change_role(session: AsyncSession, member: Member, role: str) -> None:
    """Give `member` a new role; the last owner cannot stop being one."""
    if member.role == "owner" and role != "owner" and await _owners(session, member.team_id) <= 1:
        raise TeamError(f"{member.github_login} is the last owner; make someone else owner first")
    member.role = role


async def remove_member(session: AsyncSession, member: Member) -> None:
    """Take `member` out of the team; the last owner cannot be removed."""
    if member.role == "owner" and await _owners(session, member.team_id) <= 1:
        raise TeamError(f"{member.github_login} is the last owner; make someone else owner first")
    await session.delete(member)
