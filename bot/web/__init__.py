"""The web page (docs/product.md §7): its routes; bot.site mounts them with the JSON API."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from bot.web import (
    analytics,
    auth,
    compare_page,
    deployments,
    domains,
    envvars,
    project_delete,
    projects,
    run_actions,
    runtime_page,
    setup,
    team,
)

STATIC = Path(__file__).parent / "static"


def page_routes() -> list[BaseRoute]:
    """Every route of the web page, in matching order."""
    return [
        *auth.routes,
        *project_delete.routes,
        *projects.routes,
        *deployments.routes,
        *run_actions.routes,
        *compare_page.routes,
        *runtime_page.routes,
        *envvars.routes,
        *domains.routes,
        *team.routes,
        *analytics.routes,
        *setup.routes,
    ]


def static_mount() -> Mount:
    """The page's stylesheets, scripts and icons under /static."""
    return Mount("/static", StaticFiles(directory=STATIC), name="static")
