"""The team page: members and roles, invitations (link or SES email), API keys, activity log."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.web.context import Viewer, audit, current_viewer, page, refuse, render, web_state
from bot.web.mail import MailError
from bot.web.roles import ROLES, may_assign
from bot.web.team_store import TeamError, change_role, create_invitation, remove_member, token_hash
from store.models import ApiToken, AuditEvent, Invitation, Member, utcnow

ACTIVITY_PAGE = 200


async def team_page(
    request: Request, viewer: Viewer, notice: dict[str, str] | None = None, status: int = 200
) -> Response:
    """Members, open invitations and API keys of the viewer's team."""
    async with web_state(request).sessions() as session:
        members = (
            await session.scalars(
                select(Member).where(Member.team_id == viewer.team.id).order_by(Member.github_login)
            )
        ).all()
        invitations = (
            await session.scalars(
                select(Invitation).where(
                    Invitation.team_id == viewer.team.id,
                    Invitation.used_at.is_(None),
                    Invitation.expires_at > utcnow(),
                )
            )
        ).all()
        tokens = (await session.scalars(select(ApiToken).where(ApiToken.team_id == viewer.team.id))).all()
    return render(
        request,
        "team.html",
        viewer,
        status=status,
        members=members,
        invitations=invitations,
        tokens=tokens,
        roles=ROLES,
        last_owner=sum(m.role == "owner" for m in members) == 1,
        notice=notice or {},
    )


async def invite(request: Request, viewer: Viewer) -> Response:
    """A single-use invitation link (shown once), mailed through SES when an address is given."""
    form = await request.form()
    role, email = str(form.get("role", "developer")), str(form.get("email", "")).strip() or None
    if not may_assign(viewer.role, role):
        return await team_page(
            request, viewer, {"error": f"your role ({viewer.role}) may not invite a {role}"}, 403
        )
    web = web_state(request)
    async with web.sessions.begin() as session:
        token = await create_invitation(session, viewer.team.id, role, viewer.login, email)
        await audit(
            session, request, viewer.login, viewer.team.id, "invitation.create", email or "link", role=role
        )
    link = f"{web.settings.base_url}/invite/{token}"
    notice = {"link": link}
    if email and web.mailer is not None:
        try:
            await web.mailer.send(
                email,
                f"Join {viewer.team.name} on AutoStack",
                f"{viewer.login} invited you as {role}. Sign in with GitHub here within 7 days:\n\n{link}\n",
            )
            notice["sent"] = email
        except MailError as exc:
            notice["error"] = str(exc)
    return await team_page(request, viewer, notice)


async def _member(request: Request, viewer: Viewer) -> Member | None:
    form = await request.form()
    async with web_state(request).sessions() as session:
        return await session.scalar(
            select(Member).where(
                Member.team_id == viewer.team.id, Member.id == int(str(form.get("member", "0")) or 0)
            )
        )


async def set_role(request: Request, viewer: Viewer) -> Response:
    """Change a member's role (only owners touch owners; the last owner stays)."""
    role = str((await request.form()).get("role", ""))
    member = await _member(request, viewer)
    if member is None:
        return refuse(request, viewer, 404, "no such member")
    if not (may_assign(viewer.role, role) and may_assign(viewer.role, member.role)):
        return await team_page(
            request,
            viewer,
            {"error": f"your role ({viewer.role}) may not make {member.github_login} {role}"},
            403,
        )
    async with web_state(request).sessions.begin() as session:
        member = await session.merge(member)
        try:
            await change_role(session, member, role)
        except TeamError as exc:
            await session.rollback()
            return await team_page(request, viewer, {"error": str(exc)}, 409)
        await audit(
            session, request, viewer.login, viewer.team.id, "member.role", member.github_login, role=role
        )
    return RedirectResponse("/team", 303)


async def remove(request: Request, viewer: Viewer) -> Response:
    """Take a member out of the team."""
    member = await _member(request, viewer)
    if member is None:
        return refuse(request, viewer, 404, "no such member")
    if not may_assign(viewer.role, member.role):
        return await team_page(
            request, viewer, {"error": f"your role ({viewer.role}) may not remove an {member.role}"}, 403
        )
    async with web_state(request).sessions.begin() as session:
        member = await session.merge(member)
        try:
            await remove_member(session, member)
        except TeamError as exc:
            await session.rollback()
            return await team_page(request, viewer, {"error": str(exc)}, 409)
        await audit(session, request, viewer.login, viewer.team.id, "member.remove", member.github_login)
    return RedirectResponse("/team", 303)


async def create_token(request: Request, viewer: Viewer) -> Response:
    """A new API key for scripts, scoped to the team; shown once, stored hashed."""
    form = await request.form()
    name, role = str(form.get("name", "")).strip() or "script", str(form.get("role", "developer"))
    if not may_assign(viewer.role, role):
        return await team_page(
            request, viewer, {"error": f"your role ({viewer.role}) may not make a {role} key"}, 403
        )
    token = "as_" + secrets.token_urlsafe(32)
    async with web_state(request).sessions.begin() as session:
        session.add(ApiToken(team_id=viewer.team.id, name=name, token_hash=token_hash(token), role=role))
        await audit(session, request, viewer.login, viewer.team.id, "token.create", name, role=role)
    return await team_page(request, viewer, {"token": token})


async def activity(request: Request, viewer: Viewer) -> Response:
    """Every change in the team: who, what, when, from where."""
    async with web_state(request).sessions() as session:
        events = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.team_id == viewer.team.id)
                .order_by(AuditEvent.id.desc())
                .limit(ACTIVITY_PAGE)
            )
        ).all()
    return render(request, "activity.html", viewer, events=events)


async def accept(request: Request) -> Response:
    """An invitation link: kept in the session until the person has signed in with GitHub."""
    token = request.path_params["token"]
    async with web_state(request).sessions() as session:
        found = await session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if found is None or found.used_at is not None or found.expires_at < utcnow():
        return refuse(
            request,
            await current_viewer(request),
            410,
            "this invitation was used or has expired; ask for a new one",
        )
    request.session["invitation"] = token
    return RedirectResponse("/login/github", 303)


routes = [
    page("/team", team_page, "team.view"),
    page("/team/invite", invite, "team.write", ("POST",)),
    page("/team/role", set_role, "team.write", ("POST",)),
    page("/team/remove", remove, "team.write", ("POST",)),
    page("/team/tokens", create_token, "tokens.write", ("POST",)),
    page("/team/activity", activity, "activity.view"),
    Route("/invite/{token}", accept),
]
