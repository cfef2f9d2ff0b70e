"""Group commit of webhook deliveries: the deliveries that arrive together share one commit.

The intake hands each verified delivery to `DeliveryWriter.submit`, which resolves only once
the row is durably committed (True: new, False: a delivery id seen before). One batch is in
flight at a time, so while it commits the next one gathers: under load each fsync carries
many deliveries, and with one request in flight the latency is a single insert.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert as generic_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

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


def _insert_statement(engine: AsyncEngine) -> object:
    dialect = engine.dialect.name
    builder = {"postgresql": pg_insert, "sqlite": sqlite_insert}.get(dialect)
    if builder is None:  # pragma: no cover - store.db accepts only these two
        return generic_insert(Delivery)
    return (
        builder(Delivery)
        .on_conflict_do_nothing(index_elements=["delivery_id"])
        .returning(Delivery.delivery_id)
    )


class DeliveryWriter:
    """Stores deliveries in batches; `run()` is the background task that commits them."""

    def __init__(
        self,
        engine: AsyncEngine,
        on_committed: Callable[[list[str]], None] | None = None,
        max_batch: int = 512,
    ) -> None:
        self._engine = engine
        self._statement = _insert_statement(engine)
        self._on_committed = on_committed
        self._max_batch = max_batch
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
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._commit(batch)

    async def _commit(self, batch: list[tuple[NewDelivery, asyncio.Future[bool]]]) -> None:
        rows: dict[str, dict[str, object]] = {}
        for delivery, _ in batch:
            rows.setdefault(
                delivery.delivery_id,
                {
                    "delivery_id": delivery.delivery_id,
                    "event": delivery.event,
                    "action": delivery.action,
                    "installation_id": delivery.installation_id,
                    "repository_id": delivery.repository_id,
                    "payload": delivery.payload,
                    "received_at": delivery.received_at,
                    "state": "received",
                    "attempts": 0,
                },
            )
        try:
            async with self._engine.begin() as conn:
                result = await conn.execute(self._statement, list(rows.values()))
                inserted = set(result.scalars().all())
        except (SQLAlchemyError, OSError) as exc:
            log.error("storing %d deliveries failed: %s", len(batch), exc.__class__.__name__)
            for _, future in batch:
                if not future.done():
                    future.set_exception(StoreUnavailable(str(exc.__class__.__name__)))
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
