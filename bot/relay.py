"""The transactional outbox relay: stored deliveries become arq jobs, off the request path.

The intake only commits deliveries; this relay turns them into `handle_delivery` jobs and
marks them queued. If Redis is down they stay `received` in the database and the periodic
sweep (here and in the worker's cron) queues them once Redis is back. Enqueueing is
idempotent (job id = delivery id), so several relays and sweeps may overlap safely.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg
from redis.exceptions import RedisError
from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.queue import JobQueue
from store.db import plain_dsn
from store.models import Delivery, utcnow

log = logging.getLogger("autostack.relay")

SWEEP_BATCH = 1000
_MARK_QUEUED_PG = (
    "UPDATE deliveries SET state = 'queued', enqueued_at = $2"
    " WHERE delivery_id = ANY($1::varchar[]) AND state = 'received'"
)

MarkQueued = Callable[[list[str]], Awaitable[None]]


async def stale_deliveries(
    engine: AsyncEngine, *, received_for: timedelta, stuck_for: timedelta | None = None
) -> list[str]:
    """Ids of deliveries never queued after `received_for`, or queued/processing for `stuck_for`."""
    now = utcnow()
    condition = (Delivery.state == "received") & (Delivery.received_at < now - received_for)
    if stuck_for is not None:
        stuck = Delivery.state.in_(("queued", "processing")) & (Delivery.received_at < now - stuck_for)
        condition = or_(condition, stuck)
    query = select(Delivery.delivery_id).where(condition).order_by(Delivery.received_at)
    async with engine.connect() as conn:
        return list((await conn.scalars(query.limit(SWEEP_BATCH))).all())


def marker(engine: AsyncEngine) -> MarkQueued:
    """Marks deliveries queued through the engine: for the occasional sweep, and on SQLite."""

    async def mark(delivery_ids: list[str]) -> None:
        async with engine.begin() as conn:
            await conn.execute(
                update(Delivery)
                .where(Delivery.delivery_id.in_(delivery_ids), Delivery.state == "received")
                .values(state="queued", enqueued_at=utcnow())
            )

    return mark


class PostgresMarker:
    """Marks deliveries queued over an asyncpg connection of its own: the relay runs up to fifty
    times a second under load, and through SQLAlchemy and psycopg each UPDATE cost ~1 ms of CPU."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._conn: asyncpg.Connection | None = None

    async def __call__(self, delivery_ids: list[str]) -> None:
        if self._conn is None:
            self._conn = await asyncpg.connect(self._dsn, timeout=5)
        try:
            await self._conn.execute(_MARK_QUEUED_PG, delivery_ids, utcnow())
        except BaseException:
            conn, self._conn = self._conn, None
            conn.terminate()
            raise

    async def close(self) -> None:
        """Close the connection, if one is open."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()


async def relay(queue: JobQueue, mark: MarkQueued, delivery_ids: list[str]) -> int:
    """Enqueue these deliveries and mark those still `received` as queued; returns jobs added."""
    if not delivery_ids:
        return 0
    added = await queue.enqueue_deliveries(delivery_ids)
    await mark(delivery_ids)
    return added


class Relay:
    """Background task: relays freshly committed deliveries at once, and sweeps stale ones."""

    def __init__(
        self,
        engine: AsyncEngine,
        connect: Callable[[], Awaitable[JobQueue]],
        *,
        sweep_every: float = 5.0,
        received_for: timedelta = timedelta(seconds=5),
        pause: float = 0.02,
    ) -> None:
        self._engine = engine
        self._connect = connect
        self._queue: JobQueue | None = None
        self._sweep_every = sweep_every
        self._received_for = received_for
        self._pause = pause
        self._mark = (
            PostgresMarker(plain_dsn(engine)) if engine.dialect.name == "postgresql" else marker(engine)
        )
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
            timeout = max(0.0, next_sweep - loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()
            ids, self._ids = self._ids, set()
            try:
                if loop.time() >= next_sweep:
                    next_sweep = loop.time() + self._sweep_every
                    ids.update(await stale_deliveries(self._engine, received_for=self._received_for))
                if ids:
                    await relay(await self._ensure_queue(), self._mark, sorted(ids))
                    # under load, gather what commits meanwhile: one Lua call and one UPDATE
                    # then carry a few dozen deliveries instead of one commit's worth
                    await asyncio.sleep(self._pause)
            except (RedisError, OSError) as exc:
                # the rows stay "received"; the next sweep picks them up
                log.warning("queue unreachable, %d deliveries wait in the outbox: %s", len(ids), exc)
                await self._drop_queue()
            except (SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                # the jobs were queued, or stay "received" for the sweep: queueing is idempotent
                log.warning("database unreachable while relaying: %s", exc.__class__.__name__)

    async def _ensure_queue(self) -> JobQueue:
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
        """Close the queue and database connections, if open."""
        await self._drop_queue()
        if isinstance(self._mark, PostgresMarker):
            await self._mark.close()
