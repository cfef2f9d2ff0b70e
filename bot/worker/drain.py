"""Stopping a deploy worker without cutting its builds short.

On SIGTERM or SIGINT the deploy worker takes no new job and lets the running ones finish, for
up to AUTOSTACK_DEPLOY_DRAIN_SECONDS (240 by default: the chart gives the pod 300 s before it is
killed). A job still running at that deadline, or at a second signal, is cancelled without
being failed: its deployment keeps its state and the lease it held, and once the lease expires
(store.leases.LEASE) a live replica's sweep takes it over. Jobs still queued stay in Redis for
the other replicas.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from arq.worker import Worker

from bot.worker.deploy_jobs import DeployRuntime

log = logging.getLogger("autostack.deploy")
SIGNALS = (signal.SIGTERM, signal.SIGINT)


class DeployDrain:
    """Drains the deploy worker that `track`'s factory built last."""

    def __init__(self, runtime: DeployRuntime, grace: float) -> None:
        self._runtime = runtime
        self._grace = grace
        self._worker: Worker | None = None
        self._draining = False
        self._now = asyncio.Event()

    def track(self, make: Callable[[], Worker]) -> Callable[[], Worker]:
        """`make`, remembering each worker it builds (a supervisor rebuilds it after an outage)."""

        def build() -> Worker:
            self._worker = make()
            return self._worker

        return build

    @property
    def draining(self) -> bool:
        """True once `drain` has started."""
        return self._draining

    def hurry(self) -> None:
        """A second signal: stop waiting for the running jobs."""
        self._now.set()

    async def drain(self) -> None:
        """Take no new job; wait for the running ones until the grace period ends or `hurry`;
        then cancel the rest, leaving their deployments to their leases."""
        self._draining = True
        worker = self._worker
        if worker is None:
            return
        worker.allow_pick_jobs = False
        running = [task for task in worker.tasks.values() if not task.done()]
        if not running:
            return
        log.info("stopping: waiting up to %.0f s for %d running deploy jobs", self._grace, len(running))
        hurried = asyncio.ensure_future(self._now.wait())
        try:
            async with asyncio.timeout(self._grace):
                waiting = set(running)
                while waiting and not hurried.done():
                    _, waiting = await asyncio.wait({*waiting, hurried}, return_when=asyncio.FIRST_COMPLETED)
                    waiting.discard(hurried)
        except TimeoutError:
            pass
        finally:
            hurried.cancel()
        left = [task for task in running if not task.done()]
        if left:
            log.warning("stopping: %d deploy jobs still running are left to their leases", len(left))
            self._runtime.cut_off.set()
            for task in left:
                task.cancel()
            await asyncio.gather(*left, return_exceptions=True)


async def run_until_drained(run: Callable[[], Awaitable[None]], drain: DeployDrain) -> None:
    """Run `run()` (the deploy worker's loop) until it returns, or until SIGTERM or SIGINT
    drained the worker; a second signal cuts the drain short."""
    loop = asyncio.get_running_loop()
    main = asyncio.ensure_future(run())
    stopping: list[asyncio.Task[None]] = []

    async def stop() -> None:
        await drain.drain()
        main.cancel()

    def on_signal(number: signal.Signals) -> None:
        if stopping:
            drain.hurry()
            return
        log.info("stopping after signal %s", number.name)
        stopping.append(asyncio.create_task(stop(), name="drain deploy worker"))

    for number in SIGNALS:
        loop.add_signal_handler(number, on_signal, number)
    try:
        await main
    except asyncio.CancelledError:
        # the drain's own stop ends the loop cleanly; a cancellation from outside goes on
        task = asyncio.current_task()
        if not stopping or (task is not None and task.cancelling()):
            raise
    finally:
        for number in SIGNALS:
            loop.remove_signal_handler(number)
        if stopping:
            await stopping[0]
