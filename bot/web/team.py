"""The team page: members and roles, invitations (link or SES email), API keys, activity log."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.aws_errors import AWSError
from bot.web.context import Viewer, actor, current_viewer, page, refuse, render, web_state
from bot.web.roles import ROLES, may_assign
from store import teams
from store.models import Member

ACTIVITY_PAGE = 200


async def team_page(
    request: Request, viewer: Viewer, notice: dict[str, str] | None = None, status: int = 200
) -> Response:
    """Members, open invitations and API keys of the viewer's team."""
    team = await teams.overview(web_state(request).sessions, viewer.team.id)
    return render(
        request,
        "team.html",
        viewer,
        status=status,
        members=team.members,
        invitations=team.invitations,
        tokens=team.tokens,
        roles=ROLES,
        last_owner=sum(m.role == "owner" for m in team.members) == 1,
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
    token = await teams.invite(web.sessions, actor(request, viewer), role, email)
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
        except AWSError as exc:
            notice["error"] = str(exc)
    return await team_page(request, viewer, notice)


async def _member(request: Request, viewer: Viewer) -> Member | None:
    form = await request.form()
    member_id = str(form.get("member", "0")) or "0"
    if not member_id.isdigit():
        return None
    return await teams.member(web_state(request).sessions, viewer.team.id, int(member_id))


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
    try:
        await teams.set_role(web_state(request).sessions, actor(request, viewer), member.id, role)
    except teams.TeamError as exc:
        return await team_page(request, viewer, {"error": str(exc)}, 409)
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
    try:
        await teams.remove_member(web_state(request).sessions, actor(request, viewer), member.id)
    except teams.TeamError as exc:
        return await team_page(request, viewer, {"error": str(exc)}, 409)
    return RedirectResponse("/team", 303)


async def create_token(request: Request, viewer: Viewer) -> Response:
    """A new API key for scripts, scoped to the team; shown once, stored hashed."""
    form = await request.form()
    name, role = str(form.get("name", "")).strip() or "script", str(form.get("role", "developer"))
    if not may_assign(viewer.role, role):
        return await team_page(
            request, viewer, {"error": f"your role ({viewer.role}) may not make a {role} key"}, 403
        )
    token = await teams.create_api_key(web_state(request).sessions, actor(request, viewer), name, role)
    return await team_page(request, viewer, {"token": token})


async def activity(request: Request, viewer: Viewer) -> Response:
    """Every change in the team: who, what, when, from where."""
    events = await teams.activity(web_state(request).sessions, viewer.team.id, ACTIVITY_PAGE)
    return render(request, "activity.html", viewer, events=events)


async def accept(request: Request) -> Response:
    """An invitation link: kept in the session until the person has signed in with GitHub."""
    token = request.path_params["token"]
    if await teams.open_invitation(web_state(request).sessions, token) is None:
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
