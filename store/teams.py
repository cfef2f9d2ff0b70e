"""Teams and who is in them: members and roles, invitations (expiring, single use, stored
hashed), API keys, signing in. Each change is one transaction with its activity-log entry."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from store.activity import Actor, record_change
from store.models import ApiToken, AuditEvent, Installation, Invitation, Member, Project, Team, utcnow

INVITATION_TTL = timedelta(days=7)
# the local admin signs in with the link `serve` prints; no GitHub account has id 0
LOCAL_ADMIN_ID = 0

Sessions = async_sessionmaker[AsyncSession]
# the role an installation's account gives a signing-in user (None: none), asked of GitHub
RoleLookup = Callable[[Installation], Awaitable[str | None]]


class TeamError(ValueError):
    """A membership change that is not allowed; the message says why."""


def token_hash(token: str) -> str:
    """How invitation and API tokens are stored: their SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TeamOverview:
    """What the team page shows: members by login, open invitations, API keys."""

    members: Sequence[Member]
    invitations: Sequence[Invitation]
    tokens: Sequence[ApiToken]


async def overview(sessions: Sessions, team_id: int) -> TeamOverview:
    """The team's members, its invitations still open, and its API keys."""
    async with sessions() as session:
        members = await session.scalars(
            select(Member).where(Member.team_id == team_id).order_by(Member.github_login)
        )
        invitations = await session.scalars(
            select(Invitation).where(
                Invitation.team_id == team_id, Invitation.used_at.is_(None), Invitation.expires_at > utcnow()
            )
        )
        tokens = await session.scalars(select(ApiToken).where(ApiToken.team_id == team_id))
        return TeamOverview(members.all(), invitations.all(), tokens.all())


async def invite(sessions: Sessions, by: Actor, role: str, email: str | None = None) -> str:
    """A new invitation to `by`'s team; returns the token (shown once, in the link)."""
    token = secrets.token_urlsafe(32)
    async with sessions.begin() as session:
        session.add(
            Invitation(
                team_id=by.team_id,
                token_hash=token_hash(token),
                role=role,
                email=email,
                created_by=by.login,
                expires_at=utcnow() + INVITATION_TTL,
            )
        )
        await record_change(session, by, "invitation.create", email or "link", role=role)
    return token


async def open_invitation(sessions: Sessions, token: str) -> Invitation | None:
    """The invitation a link carries, unless it is unknown, used or expired."""
    async with sessions() as session:
        found = await session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if found is None or found.used_at is not None or found.expires_at < utcnow():
        return None
    return found


async def member(sessions: Sessions, team_id: int, member_id: int) -> Member | None:
    """One member of the team (None for another team's member or none at all)."""
    async with sessions() as session:
        return await session.scalar(select(Member).where(Member.team_id == team_id, Member.id == member_id))


async def membership(sessions: Sessions, team_id: int, user_id: int) -> tuple[Member, Team] | None:
    """The GitHub user's membership of the team and the team, read now (a role may have changed)."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(Member, Team)
                .join(Team, Team.id == Member.team_id)
                .where(Member.team_id == team_id, Member.github_user_id == user_id)
            )
        ).first()
    return None if row is None else (row[0], row[1])


async def team_by_id(sessions: Sessions, team_id: int) -> Team | None:
    """The team with this id, if it still exists."""
    async with sessions() as session:
        return await session.get(Team, team_id)


async def _owners(session: AsyncSession, team_id: int) -> int:
    # locks the owner rows (PostgreSQL) so two owners demoting each other at once cannot both
    # pass the check and leave the team with none; SQLite already runs one writer at a time
    owners = await session.scalars(
        select(Member.id).where(Member.team_id == team_id, Member.role == "owner").with_for_update()
    )
    return len(owners.all())


async def _member_for_update(session: AsyncSession, team_id: int, member_id: int) -> Member:
    found = await session.scalar(select(Member).where(Member.team_id == team_id, Member.id == member_id))
    if found is None:
        raise TeamError("no such member")
    return found


async def set_role(sessions: Sessions, by: Actor, member_id: int, role: str) -> None:
    """Give a member of `by`'s team a new role; the last owner cannot stop being one."""
    async with sessions.begin() as session:
        found = await _member_for_update(session, by.team_id, member_id)
        if found.role == "owner" and role != "owner" and await _owners(session, found.team_id) <= 1:
            raise TeamError(f"{found.github_login} is the last owner; make someone else owner first")
        found.role = role
        await record_change(session, by, "member.role", found.github_login, role=role)


async def remove_member(sessions: Sessions, by: Actor, member_id: int) -> None:
    """Take a member out of `by`'s team; the last owner cannot be removed."""
    async with sessions.begin() as session:
        found = await _member_for_update(session, by.team_id, member_id)
        if found.role == "owner" and await _owners(session, found.team_id) <= 1:
            raise TeamError(f"{found.github_login} is the last owner; make someone else owner first")
        await session.delete(found)
        await record_change(session, by, "member.remove", found.github_login)


async def create_api_key(sessions: Sessions, by: Actor, name: str, role: str) -> str:
    """A new API key for `by`'s team; returns it (shown once, stored hashed)."""
    token = "as_" + secrets.token_urlsafe(32)
    async with sessions.begin() as session:
        session.add(ApiToken(team_id=by.team_id, name=name, token_hash=token_hash(token), role=role))
        await record_change(session, by, "token.create", name, role=role)
    return token


async def api_key(sessions: Sessions, token: str) -> ApiToken | None:
    """The API key a bearer token is, if any."""
    async with sessions() as session:
        return await session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))


async def activity(sessions: Sessions, team_id: int, limit: int) -> Sequence[AuditEvent]:
    """The team's newest activity-log entries, newest first."""
    async with sessions() as session:
        rows = await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.team_id == team_id)
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
        return rows.all()


async def installation_repos(sessions: Sessions, installation_id: int) -> list[str]:
    """The repositories (owner/name) of an installation's projects."""
    async with sessions() as session:
        names = await session.scalars(
            select(Project.full_name).where(
                Project.installation_id == installation_id, Project.full_name.is_not(None)
            )
        )
        return [name for name in names.all() if name]


async def sign_in(
    sessions: Sessions,
    user_id: int,
    login: str,
    source_ip: str | None,
    *,
    invitation: str | None,
    role_in: RoleLookup,
) -> Member | None:
    """The signing-in user's membership: the invitation's team, else one they have, else one an
    installation's account gives them (`role_in` asks GitHub); None when no team takes them."""
    async with sessions.begin() as session:
        found = await _accept(session, invitation, user_id, login) if invitation else None
        found = found or await session.scalar(
            select(Member).where(Member.github_user_id == user_id).order_by(Member.id)
        )
        if found is None:
            found = await _join_by_role(session, user_id, login, role_in)
        if found is not None:
            await record_change(session, Actor(login, found.team_id, source_ip), "login", login)
        return found


async def _accept(session: AsyncSession, token: str, user_id: int, login: str) -> Member | None:
    invitation = await session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if invitation is None or invitation.used_at is not None or invitation.expires_at < utcnow():
        return None
    invitation.used_at = utcnow()
    found = await session.scalar(
        select(Member).where(Member.team_id == invitation.team_id, Member.github_user_id == user_id)
    )
    if found is None:
        found = Member(
            team_id=invitation.team_id, github_user_id=user_id, github_login=login, role=invitation.role
        )
        session.add(found)
        await session.flush()
    return found


async def _join_by_role(
    session: AsyncSession, user_id: int, login: str, role_in: RoleLookup
) -> Member | None:
    installations = await session.scalars(select(Installation).where(Installation.deleted_at.is_(None)))
    for installation in installations.all():
        role = await role_in(installation)
        if role is None:
            continue
        team = await session.scalar(select(Team).where(Team.installation_id == installation.id))
        if team is None:
            team = Team(installation_id=installation.id, name=installation.account_login)
            session.add(team)
            await session.flush()
        has_owner = await session.scalar(
            select(Member.id).where(Member.team_id == team.id, Member.role == "owner")
        )
        # an organisation's team needs one owner: its first admin to sign in
        if role == "admin" and has_owner is None:
            role = "owner"
        joined = Member(team_id=team.id, github_user_id=user_id, github_login=login, role=role)
        session.add(joined)
        await session.flush()
        return joined
    return None


async def sign_in_local_admin(sessions: Sessions, source_ip: str | None) -> int:
    """The local admin's team (made on first use) with the admin as its owner; returns its id."""
    async with sessions.begin() as session:
        team = await session.scalar(select(Team).where(Team.installation_id.is_(None)).order_by(Team.id))
        if team is None:
            team = Team(name="local")
            session.add(team)
            await session.flush()
        admin = await session.scalar(
            select(Member).where(Member.team_id == team.id, Member.github_user_id == LOCAL_ADMIN_ID)
        )
        if admin is None:
            session.add(
                Member(team_id=team.id, github_user_id=LOCAL_ADMIN_ID, github_login="admin", role="owner")
            )
        await record_change(session, Actor("admin", team.id, source_ip), "login", "local admin link")
        return team.id
