"""The outbox: stored deliveries no worker has picked up yet, read page by page for the relay's
and the worker's sweeps."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import SQLAlchemyError

from store.db import Sessions, reading
from store.models import Delivery, utcnow

SWEEP_BATCH = 1000


class OutboxUnreadable(Exception):
    """The database did not answer the sweep's query (the sweep tries again later)."""


class OutboxSweep:
    """Pages through the deliveries no worker has picked up yet, oldest first.

    Each call goes on from where the previous page ended and starts over after the last one,
    so rows the relay never queued are reached even behind a backlog of queued ones."""

    def __init__(
        self, sessions: Sessions, *, received_for: timedelta, stuck_for: timedelta | None = None
    ) -> None:
        self._sessions = sessions
        self._received_for = received_for
        self._stuck_for = stuck_for
        self._after: tuple[datetime, str] | None = None

    async def next_page(self) -> list[str]:
        """Ids `received` for `received_for`, or queued/processing for `stuck_for` (a job lost
        with Redis's data, or a worker that died without arq noticing)."""
        now = utcnow()
        condition: ColumnElement[bool] = (Delivery.state == "received") & (
            Delivery.received_at < now - self._received_for
        )
        if self._stuck_for is not None:
            stuck = Delivery.state.in_(("queued", "processing")) & (
                Delivery.received_at < now - self._stuck_for
            )
            condition = or_(condition, stuck)
        query = select(Delivery.received_at, Delivery.delivery_id).where(condition)
        if self._after is not None:
            at, delivery_id = self._after
            # spelled out rather than as a row comparison, so the (state, received_at) index
            # bounds the scan
            query = query.where(
                Delivery.received_at >= at,
                or_(Delivery.received_at > at, Delivery.delivery_id > delivery_id),
            )
        query = query.order_by(Delivery.received_at, Delivery.delivery_id).limit(SWEEP_BATCH)
        try:
            async with reading(self._sessions) as tx:
                rows = (await tx.execute(query)).all()
        except SQLAlchemyError as exc:
            raise OutboxUnreadable(type(exc).__name__) from exc
        self._after = (rows[-1][0], rows[-1][1]) if len(rows) == SWEEP_BATCH else None
        return [delivery_id for _, delivery_id in rows]

    @property
    def done(self) -> bool:
        """True when the last page reached the end (the next one starts over)."""
        return self._after is None
