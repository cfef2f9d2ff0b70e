"""The ASGI application: webhook intake on its own fast path, everything else on Starlette."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Sequence

from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bot.github.api import GitHubApps
from bot.intake.endpoint import Receive, Scope, Send, WebhookIntake
from bot.metrics_scrape import refresh
from bot.security_headers import App, SecurityHeaders
from bot.services import Services
from bot.web.auth import web_url_of
from store.metric_counts import database_answers

log = logging.getLogger("autostack.app")
PROBE_TIMEOUT = 2.0


async def _database_ok(services: Services) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            return await database_answers(services.sessions)
    except TimeoutError:
        return False


async def _queue_ok(services: Services) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            return await (await services.queue()).ping()
    except (RedisError, OSError, TimeoutError):
        return False


async def healthz(_: Request) -> Response:
    """Liveness: the process answers."""
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Readiness: the database and the queue both answer, and none of this process's loops
    (workers, relay) is down waiting for them to come back."""
    services: Services = request.app.state.services
    database, queue = await asyncio.gather(_database_ok(services), _queue_ok(services))
    down = services.health.problems()
    status = 200 if database and queue and not down else 503
    return JSONResponse({"database": database, "queue": queue, "down": down}, status_code=status)


def bearer_matches(authorization: str | None, token: str) -> bool:
    """True when an `Authorization` header is `Bearer <token>`; compared in constant time."""
    scheme, _, given = (authorization or "").partition(" ")
    matched = hmac.compare_digest(given.strip().encode(), token.encode())
    return scheme.lower() == "bearer" and matched


async def metrics(request: Request) -> Response:
    """Prometheus text exposition, with the queue, database and budget figures read now
    (bot.metrics_scrape); behind METRICS_TOKEN when it is set."""
    services: Services = request.app.state.services
    token = services.settings.metrics_token
    if token is not None and not bearer_matches(request.headers.get("authorization"), token):
        return JSONResponse(
            {"error": "/metrics needs Authorization: Bearer <METRICS_TOKEN>"},
            status_code=401,
            headers={"www-authenticate": 'Bearer realm="metrics"'},
        )
    await refresh(services)
    return PlainTextResponse(services.metrics.render(), media_type="text/plain; version=0.0.4")


class AutoStackApp:
    """Routes the webhook path to the raw intake and the rest to Starlette."""

    def __init__(
        self, services: Services, routes: Sequence[BaseRoute] = (), *, run_intake: bool = True
    ) -> None:
        self.services = services
        self.webhook_path = services.settings.webhook_path
        self.intake = WebhookIntake(
            services.settings.require_webhook_secrets(), services.writer, services.metrics
        )
        self.web = Starlette(
            routes=[
                Route("/healthz", healthz),
                Route("/readyz", readyz),
                Route("/metrics", metrics),
                *routes,
            ],
            lifespan=self._lifespan if run_intake else None,
        )
        self.web.state.services = services
        # the client address behind a trusted proxy matters to the pages (activity log), not
        # to the intake: uvicorn's own proxy-header pass is off, so deliveries skip it. (uvicorn
        # types ASGI messages as its TypedDicts, Starlette as plain mappings: the same messages.)
        trusted = services.settings.forwarded_allow_ips
        self._pages: App = ProxyHeadersMiddleware(self.web, trusted_hosts=trusted)  # type: ignore[arg-type, assignment]
        settings = services.settings
        self._answer = SecurityHeaders(
            self._route,
            form_action=web_url_of(settings.github_api_url),
            always_https=settings.base_url.startswith("https://"),
        )

    def use_app(self, app_id: int, private_key: str, webhook_secret: str) -> GitHubApps:
        """Switch to an App registered at run time: accept only deliveries signed with its secret
        and make GitHub calls as it; returns the App now in use."""
        self.intake.use_secrets((webhook_secret,))
        return self.services.use_app(app_id, private_key)

    @contextlib.asynccontextmanager
    async def _lifespan(self, _: Starlette) -> AsyncIterator[None]:
        self.services.start_intake(with_relay=self.services.settings.relay_in_web)
        try:
            yield
        finally:
            await self.services.stop_intake()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._answer(scope, receive, send)
        else:
            await self._pages(scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == self.webhook_path:
            await self.intake(scope, receive, send)
        else:
            await self._pages(scope, receive, send)
