"""Group commit of webhook deliveries: the deliveries that arrive together share one commit.

The intake hands each verified delivery to `DeliveryWriter.submit`, which resolves only once
the row is durably committed (True: new, False: a delivery id seen before). Few batches are in
flight at a time (one on SQLite, three on PostgreSQL), so while they commit the next one
gathers: under load each commit carries many deliveries, and with one request in flight the
latency is a single insert.

A delivery not stored within `answer_within` seconds (8: GitHub gives up after 10) fails with
StoreUnavailable, so the intake answers 503 and GitHub records a delivery to redeliver; the
insert itself goes on (bounded by the statement timeout), and if the row lands after all the
redelivery is a harmless duplicate.

The intake checks every value it stores against its column first (bot.intake.facts), so a
batch should never fail on one delivery's data. Should one still, the batch is stored again
row by row: only the row the database refuses fails (DeliveryRefused, answered 422), and its
neighbours are stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from store.db import Sessions
from store.deliveries import BatchRefused, DatabaseUnavailable, NewDelivery, batch_inserter

log = logging.getLogger("autostack.deliveries")

WATCHDOG_TICK = 0.5


class StoreUnavailable(Exception):
    """The database could not take the delivery; the sender should try again later."""


class DeliveryRefused(Exception):
    """The database refused this delivery's values; sending it again cannot help."""


class DeliveryWriter:
    """Stores deliveries in batches while `run()` runs; cancelling `run()` stops it."""

    def __init__(
        self,
        sessions: Sessions,
        on_committed: Callable[[list[str]], None] | None = None,
        max_batch: int = 512,
        max_in_flight: int = 3,
        answer_within: float = 8.0,
    ) -> None:
        self._insert = batch_inserter(sessions)
        self._on_committed = on_committed
        self._max_batch = max_batch
        self._answer_within = answer_within
        # SQLite has one writer; PostgreSQL commits a few batches at once, so one gathers
        # while the others wait for their commit
        self._max_in_flight = max_in_flight if self._insert.parallel else 1
        self._committers: set[asyncio.Task[None]] = set()
        # counted here, not read off `_committers`: a finished task leaves that set one hop late
        self._busy = 0
        # a committer created but not yet run takes everything submitted before it runs
        self._gathering = False
        self._running = False
        self._pending: list[tuple[NewDelivery, asyncio.Future[bool]]] = []
        # every unanswered delivery in arrival order, for the watchdog: one timer for all of
        # them, not one per request (a timer each cost more CPU than the insert's share)
        self._unanswered: deque[tuple[float, asyncio.Future[bool]]] = deque()
        self._watchdog: asyncio.TimerHandle | None = None

    async def submit(self, delivery: NewDelivery) -> bool:
        """Store one delivery; True when it is new. Raises StoreUnavailable on database failure."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._pending.append((delivery, future))
        self._unanswered.append((loop.time(), future))
        if self._watchdog is None:
            self._watchdog = loop.call_later(WATCHDOG_TICK, self._expire)
        self._start_committer()
        return await future

    def _start_committer(self) -> None:
        # Started straight from submit rather than by waking a writer task: under load every
        # hop through the event loop waits behind a whole iteration of other requests, and
        # each millisecond a batch waits idles the server while its senders wait too.
        if self._running and not self._gathering and self._busy < self._max_in_flight:
            self._gathering = True
            self._busy += 1
            task = asyncio.create_task(self._commit_pending())
            self._committers.add(task)
            task.add_done_callback(self._committers.discard)

    def _expire(self) -> None:
        """Answer "unavailable" to each delivery still unanswered after `answer_within` seconds,
        whether it waits for a batch or its batch is still committing."""
        loop = asyncio.get_running_loop()
        limit = loop.time() - self._answer_within
        expired = 0
        while self._unanswered:
            since, future = self._unanswered[0]
            if not future.done():
                if since > limit:
                    break
                future.set_exception(StoreUnavailable("TimeoutError"))
                expired += 1
            self._unanswered.popleft()
        if expired:
            log.error("%d deliveries not stored within %.1f s: answered 503", expired, self._answer_within)
        self._watchdog = loop.call_later(WATCHDOG_TICK, self._expire) if self._unanswered else None

    async def run(self) -> None:
        """Commit submissions until cancelled, then cancel the batches still committing."""
        self._running = True
        try:
            self._start_committer()
            await asyncio.get_running_loop().create_future()
        finally:
            self._running = False
            for task in list(self._committers):
                task.cancel()
            await asyncio.gather(*self._committers, return_exceptions=True)
            if self._watchdog is not None:
                self._watchdog.cancel()
            await self._insert.close()

    async def _commit_pending(self) -> None:
        """Commit batch after batch while deliveries wait: a committer that finishes a batch
        starts the next one in the same step."""
        try:
            self._gathering = False
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._store(batch)
        finally:
            self._busy -= 1

    @staticmethod
    def _fail(batch: list[tuple[NewDelivery, asyncio.Future[bool]]], why: str) -> None:
        for _, future in batch:
            if not future.done():
                future.set_exception(StoreUnavailable(why))

    async def _store(self, batch: list[tuple[NewDelivery, asyncio.Future[bool]]]) -> None:
        unique = list({delivery.delivery_id: delivery for delivery, _ in reversed(batch)}.values())
        refused: dict[str, BatchRefused] = {}
        try:
            try:
                inserted = await self._insert(unique)
            except BatchRefused as exc:
                if len(unique) == 1:
                    inserted, refused = set(), {unique[0].delivery_id: exc}
                else:
                    log.warning(
                        "a batch of %d deliveries was refused (%s): storing them one by one", len(unique), exc
                    )
                    inserted, refused = await self._insert_each(unique)
        except DatabaseUnavailable as exc:
            log.error("storing %d deliveries failed: %s", len(batch), exc)
            self._fail(batch, str(exc))
            return
        except Exception as exc:
            # anything else is a bug, but the senders must still hear "try again", not hang
            log.exception("storing %d deliveries failed unexpectedly", len(batch))
            self._fail(batch, exc.__class__.__name__)
            return
        for delivery_id, reason in refused.items():
            log.error("delivery %s refused by the database: %s", delivery_id, reason)
        fresh = set(inserted)
        for delivery, future in batch:
            # the first of repeated ids in one batch is the new one; the others are duplicates
            is_new = delivery.delivery_id in fresh
            fresh.discard(delivery.delivery_id)
            if future.done():
                continue
            if delivery.delivery_id in refused:
                future.set_exception(DeliveryRefused(str(refused[delivery.delivery_id])))
            else:
                future.set_result(is_new)
        if inserted and self._on_committed is not None:
            self._on_committed(sorted(inserted))

    async def _insert_each(self, deliveries: list[NewDelivery]) -> tuple[set[str], dict[str, BatchRefused]]:
        """Insert one row per statement: (ids inserted, ids refused with the database's reason)."""
        inserted: set[str] = set()
        refused: dict[str, BatchRefused] = {}
        for delivery in deliveries:
            try:
                inserted |= await self._insert([delivery])
            except BatchRefused as exc:
                refused[delivery.delivery_id] = exc
        return inserted, refused
