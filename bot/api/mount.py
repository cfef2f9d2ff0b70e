"""Every route of the JSON API, in matching order, for the web app to mount beside its pages."""

from __future__ import annotations

from starlette.routing import BaseRoute

from bot.api import deploys, domains, env, routes, runtime, uploads


def api_routes() -> list[BaseRoute]:
    """The `/api/v1` routes: the OpenAPI document and keys first, then each resource."""
    return [
        *routes.routes,
        *deploys.routes,
        *uploads.routes,
        *runtime.routes,
        *env.routes,
        *domains.routes,
    ]
