"""Signing in and out: GitHub OAuth (the App's client), the one-time local admin link and the
signed session cookie (the security headers are bot/security_headers.py's, for every answer)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.github.api import GitHubApps
from bot.github.errors import GitHubError
from bot.settings import Settings
from bot.web.context import audit, csrf_ok, current_viewer, refuse, render, web_state
from bot.web.identity import GitHubUser, Identity, IdentityError, authorize_url
from bot.web.roles import RANK, Role, role_from_github
from bot.web.team_store import accept_invitation
from store.models import Installation, Member, Project, Team

LOCAL_ADMIN_ID = 0


def session_key(settings: Settings) -> str:
    """The cookie-signing key, derived from the primary SECRET_KEY (never the key itself)."""
    return hmac.new(settings.secret_keys[0].encode(), b"autostack session", hashlib.sha256).hexdigest()


def middleware(settings: Settings) -> list[Middleware]:
    """The signed session cookie (Secure when served over https)."""
    return [
        Middleware(
            SessionMiddleware,
            secret_key=session_key(settings),
            session_cookie="autostack_session",
            max_age=12 * 3600,
            same_site="lax",
            https_only=settings.base_url.startswith("https://"),
        ),
    ]


def _safe_next(target: str | None) -> str:
    # only paths on this site: an open redirect would let a link send users anywhere
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _start_session(request: Request, user_id: int, login: str, team_id: int) -> None:
    request.session.clear()
    request.session.update(uid=user_id, login=login, team=team_id, csrf=secrets.token_urlsafe(24))


async def login_page(request: Request) -> Response:
    """The sign-in page: a GitHub button, or how to get the local admin link."""
    web = web_state(request)
    request.session["next"] = _safe_next(request.query_params.get("next"))
    return render(request, "login.html", None, oauth=bool(web.oauth.client_id))


async def login_github(request: Request) -> Response:
    """Send the browser to GitHub's authorize page with a fresh `state`."""
    web = web_state(request)
    if not web.oauth.client_id:
        return refuse(request, None, 404, "GitHub sign-in is not configured (GITHUB_CLIENT_ID)")
    state = request.session["oauth_state"] = secrets.token_urlsafe(24)
    callback = f"{web.settings.base_url}/login/callback"
    return RedirectResponse(
        authorize_url(web.settings.github_api_url, web.oauth.client_id, callback, state), 303
    )


async def _repository_role(
    session: AsyncSession, apps: GitHubApps | None, installation_id: int, login: str
) -> Role | None:
    """The best role the user's permission on the installation's projects gives (asked as the
    installation, since the user's token cannot see other people's permissions)."""
    if apps is None:
        return None
    repos = (
        await session.scalars(select(Project.full_name).where(Project.installation_id == installation_id))
    ).all()
    github = apps.installation(installation_id)
    best: Role | None = None
    for repo in filter(None, repos):  # a project without a repository has no permission to ask for
        try:
            role = role_from_github(None, await github.get_collaborator_permission(repo, login))
        except GitHubError as exc:
            raise IdentityError(f"asking GitHub for {login}'s permission on {repo} failed: {exc}") from exc
        if role is not None and (best is None or RANK[role] > RANK[best]):
            best = role
    return best


async def _team_for(
    session: AsyncSession, identity: Identity, apps: GitHubApps | None, token: str, user: GitHubUser
) -> Member | None:
    """The user's membership: one they already have, else one their GitHub organisation role (or
    ownership of a user account), failing that their repository permission, gives them."""
    member = await session.scalar(select(Member).where(Member.github_user_id == user.id).order_by(Member.id))
    if member is not None:
        return member
    for installation in (
        await session.scalars(select(Installation).where(Installation.deleted_at.is_(None)))
    ).all():
        role: Role | None
        if installation.account_type == "Organization":
            role = role_from_github(await identity.org_role(token, installation.account_login), None)
        else:
            role = "owner" if installation.account_login.lower() == user.login.lower() else None
        if role is None:
            role = await _repository_role(session, apps, installation.id, user.login)
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
        member = Member(team_id=team.id, github_user_id=user.id, github_login=user.login, role=role)
        session.add(member)
        await session.flush()
        return member
    return None


async def login_callback(request: Request) -> Response:
    """GitHub sent the user back: check `state`, exchange the code, find the team and role."""
    web = web_state(request)
    expected = request.session.pop("oauth_state", None)
    state, code = request.query_params.get("state", ""), request.query_params.get("code", "")
    if not expected or not hmac.compare_digest(state, expected) or not code:
        return refuse(request, None, 400, "the sign-in link is stale; start again from /login")
    if not (web.oauth.client_id and web.oauth.client_secret):
        return refuse(request, None, 404, "GitHub sign-in is not configured (GITHUB_CLIENT_SECRET)")
    identity = Identity(web.settings.github_api_url)
    try:
        callback = f"{web.settings.base_url}/login/callback"
        token = await identity.exchange(web.oauth.client_id, web.oauth.client_secret, code, callback)
        user = await identity.user(token)
        invitation = request.session.pop("invitation", None)
        async with web.sessions.begin() as session:
            member = await accept_invitation(session, invitation, user) if invitation else None
            member = member or await _team_for(session, identity, web.github, token, user)
            if member is not None:
                await audit(session, request, user.login, member.team_id, "login", user.login)
    except IdentityError as exc:
        return refuse(request, None, 502, str(exc))
    finally:
        await identity.close()
    if member is None:
        return refuse(
            request,
            None,
            403,
            f"{user.login} is not a member of any organisation this App is installed on and has no "
            "permission on its repositories, so is in no team here; ask an admin for an invitation link",
        )
    target = _safe_next(request.session.get("next"))
    _start_session(request, user.id, user.login, member.team_id)
    return RedirectResponse(target, 303)


async def login_local(request: Request) -> Response:
    """The one-time local admin link `serve` prints when no OAuth client is configured."""
    web = web_state(request)
    token = request.query_params.get("token", "")
    if not web.login_token or not hmac.compare_digest(token, web.login_token):
        return refuse(request, None, 403, "this login link was used already; restart serve for a new one")
    web.login_token = None
    async with web.sessions.begin() as session:
        team = await session.scalar(select(Team).where(Team.installation_id.is_(None)).order_by(Team.id))
        if team is None:
            team = Team(name="local")
            session.add(team)
            await session.flush()
        member = await session.scalar(
            select(Member).where(Member.team_id == team.id, Member.github_user_id == LOCAL_ADMIN_ID)
        )
        if member is None:
            session.add(
                Member(team_id=team.id, github_user_id=LOCAL_ADMIN_ID, github_login="admin", role="owner")
            )
        await audit(session, request, "admin", team.id, "login", "local admin link")
    _start_session(request, LOCAL_ADMIN_ID, "admin", team.id)
    return RedirectResponse("/", 303)


async def logout(request: Request) -> Response:
    """Forget the session (a CSRF-checked post, so a link elsewhere cannot sign you out)."""
    if await current_viewer(request) is not None and not await csrf_ok(request):
        return refuse(request, None, 403, "the form is stale; reload the page")
    request.session.clear()
    return RedirectResponse("/login", 303)


def local_login_link(base_url: str) -> tuple[str, str]:
    """(token, link) for the one-time local admin sign-in."""
    token = secrets.token_urlsafe(32)
    return token, f"{base_url}/login/local?token={token}"


def web_url_of(api_url: str) -> str:
    """The scheme and host GitHub's sign-in and manifest forms post to (for the CSP)."""
    parts = urlsplit(api_url)
    return "https://github.com" if parts.hostname == "api.github.com" else f"{parts.scheme}://{parts.netloc}"


routes = [
    Route("/login", login_page),
    Route("/login/github", login_github),
    Route("/login/callback", login_callback),
    Route("/login/local", login_local),
    Route("/logout", logout, methods=["POST"]),
]
