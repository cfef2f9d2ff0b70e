"""`autostack serve`, `worker` and `relay`: the long-running processes, wired together."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable, Iterator

import uvicorn
from arq.worker import Worker

from bot.app import AutoStackApp
from bot.deploy_wiring import deploy_runtime, deploy_service
from bot.http_limits import fit_open_file_limit, guarded_protocol
from bot.metrics_server import with_metrics
from bot.services import Services
from bot.settings import Settings, SettingsError, with_local_secrets
from bot.site import mount as site_mount
from bot.web.context import WebState
from bot.web.runtime import build_state as web_state_for
from bot.web.runtime import running as web_running
from bot.worker.drain import DeployDrain, run_until_drained
from bot.worker.loops import supervise
from bot.worker.queue import EmbeddedRedis
from bot.worker.workers import make_deploy_worker, make_worker
from store.migrate import upgrade
from store.schema_check import require_current_schema

log = logging.getLogger("autostack.serve")
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def _prepare_database(settings: Settings) -> None:
    if settings.embedded_database:
        await asyncio.to_thread(upgrade, settings.database_url)
    await asyncio.to_thread(require_current_schema, settings.database_url)


def serve_app(services: Services, page: WebState) -> AutoStackApp:
    """What `serve` answers HTTP with: intake, health, metrics, the pages and their JSON API."""
    app = AutoStackApp(services, [site_mount(page)])
    page.use_app = app.use_app
    return app


@contextlib.contextmanager
def _cleanup_after_signal(drain: DeployDrain) -> Iterator[None]:
    """Let `serve` clean up after SIGTERM/SIGINT: uvicorn re-raises the signal it caught once it
    has stopped, which under the default handlers ends the process before the workers, the
    apps' processes and the embedded Redis are stopped. A signal while the deploy worker
    drains cuts the drain short (the one uvicorn re-raises comes before the drain starts)."""
    caught: list[int] = []
    loop = asyncio.get_running_loop()

    def on_signal(number: int, _frame: object) -> None:
        caught.append(number)
        if drain.draining:
            loop.call_soon_threadsafe(drain.hurry)

    previous = {sig: signal.signal(sig, on_signal) for sig in _SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if caught:
            log.info("stopping after signal %s", signal.Signals(caught[0]).name)


async def _run_workers(services: Services, workers: dict[str, Callable[[], Worker]]) -> None:
    """Run each worker under a supervisor that rebuilds it after a Redis or database outage."""
    await asyncio.gather(*(supervise(name, make, services.health) for name, make in workers.items()))


async def serve(settings: Settings) -> None:
    """Web and webhook intake plus the deploy worker; on embedded defaults also Redis and the
    delivery worker, so one process runs the whole product."""
    settings = with_local_secrets(settings)
    if not settings.deploys_in_web:
        _require_deploy_queue(settings, "AUTOSTACK_DEPLOYS_IN_WEB=0")
    await _prepare_database(settings)
    embedded: EmbeddedRedis | None = None
    redis_url = settings.redis_url
    if redis_url is None:
        embedded = EmbeddedRedis(settings.data_dir)
        redis_url = await embedded.start()
    services = Services.build(settings, redis_url)
    try:
        # the process that deploys watches the live apps: with deploys in a worker, that worker
        async with deploy_runtime(services, watch_apps=settings.deploys_in_web) as runtime:
            deploy = deploy_service(services, runtime)
            page = web_state_for(services, deploy, runtime.router)
            app = serve_app(services, page)
            workers: dict[str, Callable[[], Worker]] = {}
            drain = DeployDrain(runtime, settings.deploy_drain_seconds)
            if settings.deploys_in_web:
                workers["deploy-worker"] = drain.track(
                    lambda: make_deploy_worker(services, runtime, handle_signals=False)
                )
            if embedded is not None:
                workers["delivery-worker"] = lambda: make_worker(services, handle_signals=False)
            background = asyncio.create_task(_run_workers(services, workers), name="workers")
            limits = fit_open_file_limit(settings.http)
            server = uvicorn.Server(
                uvicorn.Config(
                    app,
                    host=settings.host,
                    port=settings.port,
                    # httptools with header and body deadlines and socket and header-size caps
                    http=guarded_protocol(limits),
                    # uvicorn types it int but only hands it to call_later, which takes a float
                    timeout_keep_alive=limits.keepalive_timeout,  # type: ignore[arg-type]
                    # live logs stream over server-sent events: the websockets package stays unloaded
                    ws="none",
                    lifespan="on",
                    # AutoStackApp applies X-Forwarded-* to the pages itself
                    proxy_headers=False,
                    access_log=False,
                    log_config=None,
                    server_header=False,
                )
            )
            log.info(
                "AutoStack listening on %s (webhooks at %s)",
                settings.base_url,
                settings.webhook_path,
                extra={
                    "database": "embedded" if settings.embedded_database else "external",
                    "queue": "embedded" if embedded else "external",
                    "router_port": runtime.router.port if runtime.router else None,
                },
            )
            try:
                async with web_running(page, runtime.router):
                    with _cleanup_after_signal(drain):
                        _freeze_startup_objects()
                        await server.serve()
                        # the web has stopped; running deploy jobs finish (the router and the
                        # apps still serve meanwhile) before the workers are cancelled
                        await drain.drain()
            finally:
                background.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await background
    finally:
        await services.close()
        if embedded is not None:
            embedded.stop()


def _freeze_startup_objects() -> None:
    """Keep the objects made at start-up out of every garbage collection from now on."""
    # the imported modules (SQLAlchemy, githubkit's models, the kubernetes client) leave hundreds
    # of thousands of long-lived objects: each full collection walked them all, a pause of tens
    # of milliseconds that showed up as the intake's p99 latency
    gc.collect()
    gc.freeze()


async def run_worker(settings: Settings, *, burst: bool = False) -> None:
    """The delivery worker for an external Redis (REDIS_URL)."""
    if settings.redis_url is None:
        raise SettingsError(
            "autostack worker needs REDIS_URL; on embedded defaults `autostack serve` runs it"
        )
    await _prepare_database(settings)
    services = Services.build(settings, settings.redis_url)
    try:
        workers = {"delivery-worker": lambda: make_worker(services, burst=burst)}
        await with_metrics(services, lambda: _run_workers(services, workers))
    finally:
        await services.close()


async def run_relay(settings: Settings) -> None:
    """The outbox relay on its own (when AUTOSTACK_RELAY_IN_WEB=0)."""
    if settings.redis_url is None:
        raise SettingsError("autostack relay needs REDIS_URL; on embedded defaults `autostack serve` relays")
    await _prepare_database(settings)
    services = Services.build(settings, settings.redis_url)
    try:
        await with_metrics(services, services.relay.run)
    finally:
        await services.close()


def _require_deploy_queue(settings: Settings, what: str) -> None:
    """A deploy worker apart from `serve` needs a shared Redis and a target outside the process."""
    if settings.redis_url is None:
        raise SettingsError(f"{what} needs REDIS_URL; on embedded defaults `autostack serve` deploys")
    if settings.cluster is None:
        raise SettingsError(
            f"{what} needs AUTOSTACK_TARGET=kubernetes; the local target's apps run inside `autostack serve`"
        )


async def run_deploy_worker(settings: Settings, *, burst: bool = False) -> None:
    """The deploy worker on its own (with AUTOSTACK_DEPLOYS_IN_WEB=0): builds, rollouts, reconciler."""
    _require_deploy_queue(settings, "autostack worker --deploys")
    assert settings.redis_url is not None
    await _prepare_database(settings)
    services = Services.build(settings, settings.redis_url)
    try:
        async with deploy_runtime(services) as runtime:
            # SIGTERM drains the worker (bot.worker.drain) instead of arq cancelling its jobs
            drain = DeployDrain(runtime, settings.deploy_drain_seconds)
            make = drain.track(
                lambda: make_deploy_worker(services, runtime, burst=burst, handle_signals=False)
            )
            workers = {"deploy-worker": make}
            await run_until_drained(
                lambda: with_metrics(services, lambda: _run_workers(services, workers)), drain
            )
    finally:
        await services.close()
