"""`autostack serve` and `autostack worker`: the long-running processes."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Sequence

import uvicorn
from starlette.routing import BaseRoute

from bot.app import AutoStackApp
from bot.queue import EmbeddedRedis
from bot.relay import Relay
from bot.services import Services
from bot.settings import Settings, local_secret
from bot.worker import make_worker
from store.migrate import upgrade

log = logging.getLogger("autostack.serve")


def with_local_webhook_secret(settings: Settings) -> Settings:
    """On embedded defaults with no WEBHOOK_SECRET, use one kept in the data folder."""
    if settings.webhook_secrets or settings.github_app_configured:
        return settings
    secret = local_secret(settings.data_dir, "webhook-secret")
    log.info("no WEBHOOK_SECRET set: using the one in %s", settings.data_dir / "webhook-secret")
    return dataclasses.replace(settings, webhook_secrets=(secret,))


async def _prepare_database(settings: Settings) -> None:
    if settings.embedded_database:
        await asyncio.to_thread(upgrade, settings.database_url)


def web_routes(services: Services) -> Sequence[BaseRoute]:
    """The routes beyond webhooks and probes that `serve` mounts."""
    return ()


async def serve(settings: Settings) -> None:
    """Web and webhook intake; on embedded defaults also the queue, the worker and the relay."""
    settings = with_local_webhook_secret(settings)
    await _prepare_database(settings)
    embedded: EmbeddedRedis | None = None
    redis_url = settings.redis_url
    if redis_url is None:
        embedded = EmbeddedRedis(settings.data_dir)
        redis_url = await embedded.start()
    services = Services.build(settings, redis_url)
    app = AutoStackApp(services, web_routes(services))
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http="httptools",
        lifespan="on",
        access_log=False,
        log_config=None,
        server_header=False,
    )
    server = uvicorn.Server(config)
    worker = make_worker(services, handle_signals=False) if embedded else None
    worker_task = asyncio.create_task(worker.main(), name="worker") if worker else None
    log.info(
        "AutoStack listening on %s (webhooks at %s)",
        settings.base_url,
        settings.webhook_path,
        extra={
            "database": "embedded" if settings.embedded_database else "external",
            "queue": "embedded" if embedded else "external",
        },
    )
    try:
        await server.serve()
    finally:
        if worker_task is not None and worker is not None:
            worker_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker_task
            await worker.close()
        if embedded is not None:
            embedded.stop()


async def run_worker(settings: Settings, *, burst: bool = False) -> None:
    """The arq worker for an external Redis (REDIS_URL)."""
    if settings.redis_url is None:
        raise SystemExit(
            "autostack worker needs REDIS_URL; on embedded defaults `autostack serve` runs the worker"
        )
    await _prepare_database(settings)
    services = Services.build(settings, settings.redis_url)
    worker = make_worker(services, burst=burst)
    try:
        await worker.main()
    finally:
        await worker.close()
        await services.close()


async def run_relay(settings: Settings) -> None:
    """The outbox relay on its own (when AUTOSTACK_RELAY_IN_WEB=0)."""
    if settings.redis_url is None:
        raise SystemExit("autostack relay needs REDIS_URL; on embedded defaults `autostack serve` relays")
    services = Services.build(settings, settings.redis_url)
    relay: Relay = services.relay
    try:
        await relay.run()
    finally:
        await services.close()
