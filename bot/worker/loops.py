"""Long-running loops that outlive their dependencies: an arq worker is restarted with backoff
when Redis or the database fails it, and `/readyz` hears which loops are down meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from arq.worker import Worker

log = logging.getLogger("autostack.loops")

MIN_BACKOFF = 0.5
# a restart attempt costs one refused connection; Redis back means work again within this
MAX_BACKOFF = 2.0


class LoopHealth:
    """Which of a process's loops are down right now, and why (a short reason, no secrets)."""

    def __init__(self) -> None:
        self._down: dict[str, tuple[float, str]] = {}

    def down(self, name: str, exc: BaseException) -> None:
        """Record `name` as down since now (or since it first went down) because of `exc`."""
        since = self._down.get(name, (time.monotonic(), ""))[0]
        self._down[name] = (since, type(exc).__name__)

    def up(self, name: str) -> None:
        """Record `name` as running."""
        self._down.pop(name, None)

    def problems(self) -> dict[str, str]:
        """Each loop that is down: "down for 3.2 s: ConnectionError"."""
        now = time.monotonic()
        return {name: f"down for {now - since:.1f} s: {why}" for name, (since, why) in self._down.items()}


async def _retire(worker: Worker) -> None:
    """Let a failed worker's running jobs finish (they reconnect on their own), then close its
    connections. A deployment midway through a build is not cut short by a Redis blip."""
    with contextlib.suppress(Exception):
        await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
    if worker._pool is not None:
        with contextlib.suppress(Exception):
            await worker._pool.close(close_connection_pool=True)


async def supervise(
    name: str,
    make: Callable[[], Worker],
    health: LoopHealth,
    *,
    min_backoff: float = MIN_BACKOFF,
    max_backoff: float = MAX_BACKOFF,
) -> None:
    """Run the worker `make()` builds; when Redis or the database fails it, build a new one
    after a backoff (doubling, capped at `max_backoff`). Returns when a burst worker is done."""
    backoff = min_backoff
    retiring: set[asyncio.Task[None]] = set()
    while True:
        worker = make()
        started = _mark_up_after_startup(worker, name, health)
        try:
            worker.main_task = asyncio.ensure_future(worker.main())
            await worker.main_task
        except asyncio.CancelledError:
            await _close(worker)
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            return  # the worker's own SIGTERM handler stopped it: a clean exit
        except Exception as exc:
            health.down(name, exc)
            log.warning("%s stopped (%s: %s); restarting in %.1f s", name, type(exc).__name__, exc, backoff)
            task = asyncio.create_task(_retire(worker), name=f"retire {name}")
            retiring.add(task)
            task.add_done_callback(retiring.discard)
            if started.done():
                backoff = min_backoff  # it ran: the first retry comes quickly
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, max_backoff)
            continue
        await _close(worker)
        return


def _mark_up_after_startup(worker: Worker, name: str, health: LoopHealth) -> asyncio.Future[None]:
    """Wrap the worker's on_startup so the loop counts as up once it connected and started."""
    inner: Callable[[dict[Any, Any]], Awaitable[Any]] | None = worker.on_startup
    started: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def on_startup(ctx: dict[Any, Any]) -> None:
        if inner is not None:
            await inner(ctx)
        health.up(name)
        log.info("%s running", name)
        started.set_result(None)

    worker.on_startup = on_startup
    return started


async def _close(worker: Worker) -> None:
    with contextlib.suppress(Exception):
        await worker.close()
