"""The web page (docs/product.md §7): one Starlette app mounted under AutoStack's own routes."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from bot.web import (
    analytics,
    api,
    api_deploys,
    api_domains,
    api_env,
    api_runtime,
    api_uploads,
    auth,
    deployments,
    domains,
    envvars,
    project_delete,
    projects,
    runtime_page,
    setup,
    team,
)
from bot.web.context import WebState

STATIC = Path(__file__).parent / "static"


def page_routes() -> list[BaseRoute]:
    """Every route of the web page, in matching order."""
    return [
        *auth.routes,
        *project_delete.routes,
        *projects.routes,
        *deployments.routes,
        *runtime_page.routes,
        *envvars.routes,
        *domains.routes,
        *team.routes,
        *analytics.routes,
        *setup.routes,
        *api.routes,
        *api_deploys.routes,
        *api_uploads.routes,
        *api_runtime.routes,
        *api_env.routes,
        *api_domains.routes,
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


def web_app(state: WebState) -> Starlette:
    """The web page as an ASGI app, with its session middleware (AutoStackApp adds the security
    headers around everything)."""
    app = Starlette(
        routes=page_routes(),
        middleware=auth.middleware(state.settings),
    )
    app.state.web = state
    return app


def mount(state: WebState) -> Mount:
    """The web page as the last route of AutoStackApp: it answers every path not taken before."""
    return Mount("", app=web_app(state))
