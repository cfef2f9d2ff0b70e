"""Group commit of webhook deliveries: the deliveries that arrive together share one commit.

The intake hands each verified delivery to `DeliveryWriter.submit`, which resolves only once
the row is durably committed (True: new, False: a delivery id seen before). Few batches are in
flight at a time (one on SQLite, three on PostgreSQL), so while they commit the next one
gathers: under load each fsync carries many deliveries, and with one request in flight the
latency is a single insert.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store.models import Delivery

log = logging.getLogger("autostack.deliveries")


class StoreUnavailable(Exception):
    """The database could not take the delivery; the sender should try again later."""


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """A verified delivery as the intake saw it, ready to be stored."""

    delivery_id: str
    event: str
    action: str | None
    installation_id: int | None
    repository_id: int | None
    payload: bytes
    received_at: datetime


_PG_INSERT = (
    "INSERT INTO deliveries (delivery_id, event, action, installation_id, repository_id, payload,"
    " received_at, state, attempts, handled)"
    " VALUES (%s, %s, %s, %s, %s, %b, %s, 'received', 0, '[]') ON CONFLICT (delivery_id) DO NOTHING"
    " RETURNING delivery_id"
)


class PostgresInserter:
    """Inserts batches over a few psycopg connections of its own, outside SQLAlchemy's pool.

    This is the hot path: psycopg's pipelined executemany sends one Bind/Execute per row in a
    single round trip, several times cheaper than one multi-VALUES statement or an array
    unnest, and a dedicated connection skips the pool's checkout and pre-ping.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self._idle: list[psycopg.AsyncConnection[Any]] = []

    async def __call__(self, deliveries: list[NewDelivery]) -> set[str]:
        conn = (
            self._idle.pop()
            if self._idle
            else await psycopg.AsyncConnection.connect(self._url, connect_timeout=5)
        )
        try:
            inserted: set[str] = set()
            async with conn.transaction(), conn.cursor(binary=True) as cursor:
                await cursor.executemany(
                    _PG_INSERT,
                    [
                        (
                            d.delivery_id,
                            d.event,
                            d.action,
                            d.installation_id,
                            d.repository_id,
                            d.payload,
                            d.received_at,
                        )
                        for d in deliveries
                    ],
                    returning=True,
                )
                while True:
                    inserted.update(row[0] for row in await cursor.fetchall())
                    if not cursor.nextset():
                        break
        except BaseException:
            await conn.close()
            raise
        self._idle.append(conn)
        return inserted

    async def close(self) -> None:
        """Close the idle connections."""
        while self._idle:
            await self._idle.pop().close()


class SQLAlchemyInserter:
    """Inserts batches through the engine (SQLite, where there is one writer anyway)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def __call__(self, deliveries: list[NewDelivery]) -> set[str]:
        async with self._engine.begin() as conn:
            return await _insert_rows(conn, deliveries)

    async def close(self) -> None:
        """Nothing of its own to close: the engine belongs to the services."""


async def _insert_rows(conn: AsyncConnection, deliveries: list[NewDelivery]) -> set[str]:
    statement = (
        sqlite_insert(Delivery)
        .on_conflict_do_nothing(index_elements=["delivery_id"])
        .returning(Delivery.delivery_id)
    )
    rows = [
        {
            "delivery_id": d.delivery_id,
            "event": d.event,
            "action": d.action,
            "installation_id": d.installation_id,
            "repository_id": d.repository_id,
            "payload": d.payload,
            "received_at": d.received_at,
            "state": "received",
            "attempts": 0,
            "handled": [],
        }
        for d in deliveries
    ]
    return set((await conn.execute(statement, rows)).scalars().all())


class DeliveryWriter:
    """Stores deliveries in batches; `run()` is the background task that commits them."""

    def __init__(
        self,
        engine: AsyncEngine,
        on_committed: Callable[[list[str]], None] | None = None,
        max_batch: int = 512,
        max_in_flight: int = 3,
    ) -> None:
        self._engine = engine
        postgres = engine.dialect.name == "postgresql"
        self._insert = (
            PostgresInserter(engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
            if postgres
            else SQLAlchemyInserter(engine)
        )
        self._on_committed = on_committed
        self._max_batch = max_batch
        # SQLite has one writer; PostgreSQL commits a few batches at once, so one gathers
        # while the others wait for their fsync
        self._slots = asyncio.Semaphore(max_in_flight if postgres else 1)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._pending: list[tuple[NewDelivery, asyncio.Future[bool]]] = []
        self._wake = asyncio.Event()

    async def submit(self, delivery: NewDelivery) -> bool:
        """Store one delivery; True when it is new. Raises StoreUnavailable on database failure."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((delivery, future))
        self._wake.set()
        return await future

    async def run(self) -> None:
        """Commit whatever has gathered, batch after batch, until cancelled."""
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._pending:
                    await self._slots.acquire()
                    batch = self._pending[: self._max_batch]
                    del self._pending[: self._max_batch]
                    task = asyncio.create_task(self._commit(batch))
                    self._in_flight.add(task)
                    task.add_done_callback(self._in_flight.discard)
        finally:
            for task in list(self._in_flight):
                task.cancel()
            await asyncio.gather(*self._in_flight, return_exceptions=True)
            await self._insert.close()

    async def _commit(self, batch: list[tuple[NewDelivery, asyncio.Future[bool]]]) -> None:
        try:
            await self._store(batch)
        finally:
            self._slots.release()

    @staticmethod
    def _fail(batch: list[tuple[NewDelivery, asyncio.Future[bool]]], exc: BaseException) -> None:
        for _, future in batch:
            if not future.done():
                future.set_exception(StoreUnavailable(exc.__class__.__name__))

    async def _store(self, batch: list[tuple[NewDelivery, asyncio.Future[bool]]]) -> None:
        unique = list({delivery.delivery_id: delivery for delivery, _ in reversed(batch)}.values())
        try:
            inserted = await self._insert(unique)
        except (SQLAlchemyError, OSError, psycopg.Error) as exc:
            log.error("storing %d deliveries failed: %s", len(batch), exc.__class__.__name__)
            self._fail(batch, exc)
            return
        except Exception as exc:
            # anything else is a bug, but the senders must still hear "try again", not hang
            log.exception("storing %d deliveries failed unexpectedly", len(batch))
            self._fail(batch, exc)
            return
        fresh = set(inserted)
        for delivery, future in batch:
            # the first of repeated ids in one batch is the new one; the others are duplicates
            is_new = delivery.delivery_id in fresh
            fresh.discard(delivery.delivery_id)
            if not future.done():
                future.set_result(is_new)
        if inserted and self._on_committed is not None:
            self._on_committed(sorted(inserted))
