"""Watches a live app on the local target: its exits (told by its Supervisor) and a health probe
every few seconds move its state (deployer.app_state); each change is handed to `on_change`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx

from deployer.app_state import LAST_LINES, AppHealth, exited, probed, went_live
from deployer.events import AppStateChanged
from deployer.targets.base import Site
from deployer.targets.local.runner import Supervisor

log = logging.getLogger(__name__)
ChangeFn = Callable[[AppStateChanged], Awaitable[None]]
PROBE_SECONDS = 5.0
PROBE_TIMEOUT = 2.0


async def no_change(_event: AppStateChanged) -> None:
    """The `on_change` when nobody listens (tests, tools)."""


class AppWatch:
    """One live app's watcher, from go-live until it is replaced or destroyed."""

    def __init__(
        self,
        site: Site,
        supervisor: Supervisor,
        health_path: str,
        on_change: ChangeFn,
        interval: float = PROBE_SECONDS,
    ) -> None:
        self.site = site
        self.supervisor = supervisor
        self.health_path = health_path
        self.on_change = on_change
        self.interval = interval
        self.health = went_live(datetime.now(UTC))
        # changes are handed on in order by one task, so a slow store or GitHub never holds up
        # the supervisor's restart or the next probe
        self._changes: asyncio.Queue[AppStateChanged] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Report the app live (the store drops it when nothing changed) and start probing."""
        self.supervisor.on_exit = self.exited
        self._tell()
        self._tasks = [
            asyncio.create_task(self._probe_forever(), name=f"watch {self.supervisor.name}"),
            asyncio.create_task(self._hand_on(), name=f"report {self.supervisor.name}"),
        ]

    async def stop(self) -> None:
        """Stop watching (the app is being replaced or destroyed: not a crash)."""
        self.supervisor.on_exit = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def exited(self, code: int | None) -> None:
        """The supervisor saw the process end; it restarts it after its backoff."""
        await self._move(exited(self.health, code, datetime.now(UTC)))

    async def _probe_forever(self) -> None:
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT) as client:
            while True:
                await asyncio.sleep(self.interval)
                if not self.supervisor.running:
                    continue  # down between an exit and its restart: the exit said so
                ok, detail = await _probe(client, self.supervisor.address, self.health_path)
                await self._move(probed(self.health, ok, detail, datetime.now(UTC)))

    async def _move(self, health: AppHealth) -> None:
        changed = health.state != self.health.state
        self.health = health
        if changed:
            self._tell()

    def _tell(self) -> None:
        health = self.health
        self._changes.put_nowait(
            AppStateChanged(
                self.site.project,
                self.site.environment,
                self.site.deployment_id,
                health.state,
                health.since,
                health.reason,
                tuple(self.supervisor.tail)[-LAST_LINES:],
            )
        )

    async def _hand_on(self) -> None:
        while True:
            event = await self._changes.get()
            try:
                await self.on_change(event)
            except Exception:
                log.exception("recording %s/%s as %s failed", event.project, event.environment, event.state)


async def _probe(client: httpx.AsyncClient, address: str, path: str) -> tuple[bool, str]:
    try:
        response = await client.get(address + path)
    except httpx.HTTPError as exc:
        return False, f"GET {path} failed ({type(exc).__name__})"
    if response.status_code >= 400:
        return False, f"GET {path} answered {response.status_code}"
    return True, f"GET {path} answered {response.status_code}"
