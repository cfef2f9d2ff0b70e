"""The metrics endpoint of the processes without a web page (`autostack worker`, `relay`):
`/metrics`, `/healthz` and `/readyz` on AUTOSTACK_METRICS_PORT, as `serve` answers them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route

from bot.app import healthz, metrics, readyz
from bot.services import Services
from bot.settings import SettingsError

log = logging.getLogger("autostack.metrics")


class _QuietServer(uvicorn.Server):
    """uvicorn without its signal handlers: the worker beside it owns SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def metrics_app(services: Services) -> Starlette:
    """The ASGI app of the endpoint, reading figures from `services` at each scrape."""
    app = Starlette(routes=[Route("/metrics", metrics), Route("/healthz", healthz), Route("/readyz", readyz)])
    app.state.services = services
    return app


async def with_metrics(services: Services, work: Callable[[], Awaitable[None]]) -> None:
    """Run `work` with the metrics endpoint beside it when a port is set; the endpoint stops
    with the work."""
    port = services.settings.metrics_port
    if not port:
        await work()
        return
    host = services.settings.host
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise SettingsError(
            f"AUTOSTACK_METRICS_PORT={port}: cannot listen on {host}:{port}: {exc.strerror}"
        ) from None
    config = uvicorn.Config(
        metrics_app(services),
        lifespan="off",
        ws="none",
        access_log=False,
        log_config=None,
        server_header=False,
    )
    server = _QuietServer(config)
    endpoint = asyncio.create_task(server.serve(sockets=[listener]), name="metrics-endpoint")
    log.info("metrics on http://%s:%d/metrics", host, port)
    try:
        await work()
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await endpoint
        listener.close()
