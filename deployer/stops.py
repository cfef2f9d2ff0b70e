"""Stopping a run from outside: whoever marks a deployment cancelled or superseded signals it
once that is committed, and the process running it stops the run at once.

`StopSignals` is the port; the bot provides one over Redis pub/sub, which reaches every process.
A signal only wakes the watcher, which reads the stored state before it stops anything, so a
stray signal is harmless; and a lost one still takes effect, at the watcher's slow poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from store import deployments, leases
from store.db import Sessions

log = logging.getLogger("autostack.deployer")
# how often a run reads its own state when no signal came: what a lost signal costs
FALLBACK_POLL_SECONDS = 5.0


class StopSignals(Protocol):
    """Signals that a deployment was marked stopped, from any process to the one running it."""

    async def notify(self, deployment_id: int) -> None:
        """Signal the deployment's run (after the change is committed); never raises."""
        ...

    def watch(self, deployment_id: int) -> AbstractAsyncContextManager[asyncio.Event]:
        """An event set each time the deployment is signalled while the block runs (the run
        clears it once it has looked)."""
        ...


class ProcessStops:
    """StopSignals within one process: what a run gets when nothing else is wired (tests, and
    callers in the process that runs the deployment)."""

    def __init__(self) -> None:
        # per event loop: an Event belongs to the loop it was made in
        self._watchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, set[asyncio.Event]]]
        self._watchers = weakref.WeakKeyDictionary()

    def _of_loop(self) -> dict[int, set[asyncio.Event]]:
        return self._watchers.setdefault(asyncio.get_running_loop(), {})

    async def notify(self, deployment_id: int) -> None:
        """Wake this process's watchers of the deployment."""
        self.deliver(deployment_id)

    def deliver(self, deployment_id: int) -> None:
        """Wake this process's watchers of the deployment (a signal that arrived from elsewhere)."""
        for event in self._of_loop().get(deployment_id, ()):
            event.set()

    @contextlib.asynccontextmanager
    async def watch(self, deployment_id: int) -> AsyncIterator[asyncio.Event]:
        """An event set by each signal for the deployment while the block runs."""
        event = asyncio.Event()
        watchers = self._of_loop()
        watchers.setdefault(deployment_id, set()).add(event)
        try:
            yield event
        finally:
            watchers[deployment_id].discard(event)
            if not watchers[deployment_id]:
                del watchers[deployment_id]


IN_PROCESS = ProcessStops()


async def notify_all(stops: StopSignals, deployment_ids: Iterable[int]) -> None:
    """Signal each deployment's run."""
    for deployment_id in deployment_ids:
        await stops.notify(deployment_id)


async def watch(
    sessions: Sessions, deployment_id: int, task: asyncio.Task[object], stops: StopSignals
) -> None:
    """Cancel the run as soon as the deployment is marked superseded or cancelled: at its signal,
    or at the latest a poll later; renew this process's lease on it meanwhile."""
    now = time.monotonic()
    renew_at, poll_at = now + leases.RENEW_EVERY, now + FALLBACK_POLL_SECONDS
    async with stops.watch(deployment_id) as signalled:
        while not task.done():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, min(renew_at, poll_at) - time.monotonic())):
                    await signalled.wait()
            now = time.monotonic()
            if now >= renew_at:
                renew_at = now + leases.RENEW_EVERY
                await leases.renew_deployment(sessions, deployment_id, leases.process_owner())
            if not signalled.is_set() and now < poll_at:
                continue
            signalled.clear()
            poll_at = now + FALLBACK_POLL_SECONDS
            if await deployments.state_of(sessions, deployment_id) in deployments.STOPPED:
                task.cancel()
                return
