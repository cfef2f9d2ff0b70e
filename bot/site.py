"""The site AutoStackApp mounts last: the web page and the JSON API in one Starlette app."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount

from bot.api.mount import api_routes
from bot.web import auth, page_routes, static_mount
from bot.web.context import WebState


def site_routes() -> list[BaseRoute]:
    """The pages' routes, then the API's, in matching order (static files last)."""
    return [*page_routes(), *api_routes(), static_mount()]


def site_app(state: WebState) -> Starlette:
    """The page and the API as one ASGI app, with the session middleware (AutoStackApp adds the
    security headers around everything)."""
    app = Starlette(routes=site_routes(), middleware=auth.middleware(state.settings))
    app.state.web = state
    return app


def mount(state: WebState) -> Mount:
    """The site as the last route of AutoStackApp: it answers every path not taken before."""
    return Mount("", app=site_app(state))
