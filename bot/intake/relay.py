"""The transactional outbox relay: stored deliveries become arq jobs, off the request path.

The intake only commits deliveries; the committed rows in state `received` are the outbox, and
this relay turns them into `handle_delivery` jobs (job id = delivery id). Nothing is written
back: arq's job and result keys already say which deliveries are queued, and enqueueing an id
twice is a no-op, so a row stays `received` until a worker claims it. Writing a `queued` mark
per row cost PostgreSQL a second, index-updating write of every delivery. If Redis is down,
or the process dies between commit and relay, the periodic sweep (here and in the worker's
cron) queues what is still `received` once Redis is back. Several relays and sweeps may
overlap safely.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from redis.exceptions import RedisError

from bot.worker.loops import LoopHealth
from bot.worker.queue import ArqQueue
from store.db import Sessions
from store.outbox import OutboxSweep, OutboxUnreadable

log = logging.getLogger("autostack.relay")

RETRY_LIMIT = 100_000
# the relay's retries while Redis is down: each costs one refused connection, and Redis is
# used again at most RECONNECT_MAX seconds after it is back
RECONNECT_MIN = 0.25
RECONNECT_MAX = 1.0
# between the pages of one sweep pass: at most 4,000 rows a second, each page a query and a
# Lua call in the intake's event loop
PAGE_PAUSE = 0.25


class Relay:
    """Background task: relays freshly committed deliveries at once; sweeps the outbox at start
    and after Redis failed it, until a sweep has gone through every stale row.

    It does not sweep the rest of the time: a row it was told about is queued, or its failure
    starts a sweep; rows a dead process left behind are the start-up sweep's and the worker's
    cron sweep's. Sweeping a backlog every few seconds would only re-check queued jobs."""

    def __init__(
        self,
        sessions: Sessions,
        connect: Callable[[], Awaitable[ArqQueue]],
        *,
        sweep_every: float = 5.0,
        received_for: timedelta = timedelta(seconds=5),
        pause: float = 0.02,
        health: LoopHealth | None = None,
    ) -> None:
        self._connect = connect
        self._health = health or LoopHealth()
        self._queue: ArqQueue | None = None
        self._sweep_every = sweep_every
        self._pause = pause
        self._sweep = OutboxSweep(sessions, received_for=received_for)
        self._sweeping = True
        # Redis failed the relay and no sweep has gone through since: retry on the backoff
        self._down = False
        self._backoff = RECONNECT_MIN
        self._ids: set[str] = set()
        self._wake = asyncio.Event()

    def notify(self, delivery_ids: list[str]) -> None:
        """Called by the writer after a commit: these ids are ready to be queued."""
        self._ids.update(delivery_ids)
        self._wake.set()

    async def run(self) -> None:
        """Relay until cancelled; never raises for a Redis or database outage."""
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        while True:
            # between sweeps only a notification wakes it; while Redis is down only the retry
            # time does (a commit's notification would only fail again)
            timeout = max(0.0, next_sweep - loop.time()) if self._sweeping else None
            if self._down:
                await asyncio.sleep(timeout or 0.0)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()
            ids, self._ids = self._ids, set()
            relayed = bool(ids)
            try:
                if ids:
                    await (await self._ensure_queue()).enqueue_deliveries(sorted(ids))
                    ids = set()
                if self._sweeping and loop.time() >= next_sweep:
                    next_sweep = loop.time() + self._sweep_every
                    stale = await self._sweep.next_page()
                    await (await self._ensure_queue()).enqueue_missing(stale)
                    self._sweeping = not self._sweep.done
                    if self._sweeping:
                        # one pass goes through the whole backlog soon (after an outage, at
                        # start), not a page per sweep interval; the pause between pages keeps
                        # a large backlog's pass from starving the intake in the same loop
                        next_sweep = loop.time() + PAGE_PAUSE
                if relayed:
                    # under load, gather what commits meanwhile: one Lua call then carries a few
                    # dozen deliveries instead of one commit's worth
                    await asyncio.sleep(self._pause)
                if not self._sweeping:
                    self._down, self._backoff = False, RECONNECT_MIN
                self._health.up("relay")
            except (RedisError, OSError) as exc:
                self._health.down("relay", exc)
                # the rows stay "received"; the sweep picks them up once Redis answers again
                log.warning("queue unreachable, %d deliveries wait in the outbox: %s", len(ids), exc)
                self._keep(ids)
                self._sweeping, self._down = True, True
                # retried soon (Redis is back within the backoff), then the sweep re-queues
                # what Redis lost meanwhile
                next_sweep = loop.time() + self._backoff
                self._backoff = min(self._backoff * 2, RECONNECT_MAX)
                await self._drop_queue()
            except OutboxUnreadable as exc:
                # /readyz names the database's error, not the wrapper's
                self._health.down("relay", exc.__cause__ or exc)
                self._keep(ids)
                log.warning("database unreachable while sweeping: %s", exc)

    def _keep(self, ids: set[str]) -> None:
        """Try these ids again next time; past RETRY_LIMIT only the sweep finds them."""
        if len(self._ids) + len(ids) <= RETRY_LIMIT:
            self._ids.update(ids)

    async def _ensure_queue(self) -> ArqQueue:
        if self._queue is None:
            connecting = asyncio.ensure_future(self._connect())
            try:
                self._queue = await asyncio.shield(connecting)
            except asyncio.CancelledError:
                # stopped while connecting: the connection still opens, and must be closed
                with contextlib.suppress(RedisError, OSError):
                    await (await connecting).close()
                raise
        return self._queue

    async def _drop_queue(self) -> None:
        if self._queue is not None:
            queue, self._queue = self._queue, None
            try:
                await queue.close()
            except (RedisError, OSError):
                log.debug("closing a broken queue connection failed", exc_info=True)

    async def close(self) -> None:
        """Close the queue connection, if one is open."""
        await self._drop_queue()
