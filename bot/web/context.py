"""What every page shares: the web state, who is asking (and in which role), the role guard,
CSRF checking, template rendering and the activity log."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from bot.deploy_service import DeployService
from bot.domains.ports import DnsZones, DomainRouting
from bot.github.api import GitHubApps
from bot.settings import Settings
from bot.web.roles import allows
from store import project_pages, projects, teams
from store.activity import Actor
from store.db import Sessions, Tx, reading
from store.encryption import KeyRing
from store.models import Deployment, Project, Team

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


class Mailer(Protocol):
    """Sends an invitation email (SES when configured)."""

    async def send(self, to: str, subject: str, body: str) -> None: ...


@dataclass
class OAuthClient:
    """The GitHub App's OAuth client; the setup page can fill it in at run time."""

    client_id: str | None
    client_secret: str | None = field(default=None, repr=False)


@dataclass
class WebState:
    """The running server as the pages see it (set as `app.state.web`)."""

    settings: Settings
    sessions: Sessions
    keyring: KeyRing
    oauth: OAuthClient
    deploy: DeployService | None = None  # queue, target and events; None when nothing deploys
    routing: DomainRouting | None = None
    mailer: Mailer | None = None
    dns_zones: DnsZones | None = None  # Route53 when AWS is configured
    github: GitHubApps | None = None  # the App, to ask repository permissions; None: no App
    # switches the server to an App the setup page registered: (app id, private key, webhook secret)
    use_app: Callable[[int, str, str], GitHubApps] | None = None
    nameservers: tuple[str, int] | None = None  # a test's DNS server; None: the system resolver
    # the one-time local admin login (embedded defaults without OAuth); used once, then None
    login_token: str | None = field(default=None, repr=False)
    extra: dict[str, Any] = field(default_factory=dict)


class ActionError(Exception):
    """A change refused or failed, shared by the page and the API: `status` is the HTTP answer
    and the message says what was wrong."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Viewer:
    """The signed-in person, their team and their role in it."""

    user_id: int
    login: str
    team: Team
    role: str

    def may(self, permission: str) -> bool:
        """Whether this viewer's role holds `permission`."""
        return allows(self.role, permission)


def web_state(request: Request) -> WebState:
    """The WebState of the app serving this request."""
    web: WebState = request.app.state.web
    return web


async def current_viewer(request: Request) -> Viewer | None:
    """The viewer from the session cookie, with the role read now from the database."""
    user_id, team_id = request.session.get("uid"), request.session.get("team")
    if user_id is None or team_id is None:
        return None
    found = await teams.membership(web_state(request).sessions, team_id, user_id)
    if found is None:
        return None
    member, team = found
    return Viewer(member.github_user_id, member.github_login, team, member.role)


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return str(token)


async def csrf_ok(request: Request) -> bool:
    """Whether a form post carries the session's CSRF token (field `csrf` or X-CSRF-Token header)."""
    expected = request.session.get("csrf")
    if not expected:
        return False
    sent = request.headers.get("x-csrf-token") or str((await request.form()).get("csrf", ""))
    return hmac.compare_digest(sent, str(expected))


def render(
    request: Request, template: str, viewer: Viewer | None, status: int = 200, **values: Any
) -> Response:
    """An HTML page from `templates/`, with the viewer and the CSRF token for its forms."""
    values.update(viewer=viewer, csrf=csrf_token(request))
    return TEMPLATES.TemplateResponse(request, template, values, status_code=status)


def refuse(request: Request, viewer: Viewer | None, status: int, message: str) -> Response:
    """An error page (or JSON for API-style requests) saying what was refused and why."""
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"error": message}, status_code=status)
    return render(request, "error.html", viewer, status=status, message=message)


Handler = Callable[[Request, Viewer], Awaitable[Response]]


class PermissionRoute(Route):
    """A route that remembers the permission its handler needs (the route x role tests read it)."""

    permission: str = ""


def page(
    path: str, handler: Handler, permission: str, methods: tuple[str, ...] = ("GET",)
) -> PermissionRoute:
    """A route whose handler runs only for a signed-in viewer holding `permission`; posts also
    need the CSRF token. The permission is kept on the route for the route x role test."""

    async def endpoint(request: Request) -> Response:
        viewer = await current_viewer(request)
        if viewer is None:
            if request.method == "GET":
                return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
            return refuse(request, None, 401, "sign in first")
        if request.method != "GET" and not await csrf_ok(request):
            return refuse(request, viewer, 403, "the form is stale or was not sent by this site; reload it")
        if not viewer.may(permission):
            return refuse(request, viewer, 403, f"your role ({viewer.role}) may not do this ({permission})")
        return await handler(request, viewer)

    route = PermissionRoute(path, endpoint, methods=list(methods))
    route.permission = permission
    return route


def client_ip(request: Request) -> str | None:
    """Where the request came from, for the activity log."""
    return request.client.host if request.client else None


def actor(request: Request, viewer: Viewer) -> Actor:
    """The signed-in viewer as the author of a change, for its activity-log entry."""
    return Actor(viewer.login, viewer.team.id, client_ip(request))


async def team_project(tx: Tx, viewer: Viewer, name: str) -> Project | None:
    """The project called `name` if the viewer's team may see it."""
    return await projects.team_project(tx, viewer.team, name)


async def owned_project(tx: Tx, viewer: Viewer, name: str, whose: str = "your team") -> Project:
    """The project called `name` in the viewer's team; ActionError 404 naming it otherwise."""
    project = await team_project(tx, viewer, name)
    if project is None:
        raise ActionError(404, f"no project {name!r} in {whose}")
    return project


async def viewers_project(request: Request, viewer: Viewer, name: str, whose: str = "your team") -> Project:
    """`owned_project` read on its own: the project called `name` in the viewer's team."""
    async with reading(web_state(request).sessions) as tx:
        return await owned_project(tx, viewer, name, whose)


async def team_deployment(tx: Tx, viewer: Viewer, deployment_id: int) -> tuple[Deployment, Project] | None:
    """The deployment and its project, if the viewer's team sees that project."""
    found = await project_pages.deployment_and_project(tx, deployment_id)
    if found is None or await team_project(tx, viewer, found[1].name) is None:
        return None
    return found
