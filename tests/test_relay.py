"""The outbox sweep: pages through stale deliveries and queues only those without a job."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from bot import relay as relay_module
from bot.relay import OutboxSweep
from bot.services import Services
from store.models import Delivery, utcnow


async def _received(services: Services, count: int, age: timedelta) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    async with services.sessions.begin() as session:
        for n, delivery_id in enumerate(ids):
            session.add(
                Delivery(
                    delivery_id=delivery_id,
                    event="push",
                    payload=b"{}",
                    received_at=utcnow() - age - timedelta(seconds=count - n),
                    state="received",
                    attempts=0,
                    handled=[],
                )
            )
    return ids


async def test_sweep_reaches_unqueued_rows_behind_a_backlog_of_queued_ones(backend, tmp_path, monkeypatch):
    monkeypatch.setattr(relay_module, "SWEEP_BATCH", 3)
    services = Services.build(backend.settings(tmp_path), backend.redis_url)
    try:
        queue = await services.queue()
        backlog = await _received(services, 7, timedelta(minutes=10))  # queued, no worker yet
        assert await queue.enqueue_deliveries(backlog) == 7
        lost = await _received(services, 2, timedelta(minutes=1))  # committed, never relayed
        await _received(services, 1, timedelta(0))  # too recent: the relay may still queue it

        sweep = OutboxSweep(services.engine, received_for=timedelta(seconds=5))
        pages, added = [], 0
        while True:
            page = await sweep.next_page()
            pages.append(len(page))
            added += await queue.enqueue_missing(page)
            if sweep.done:
                break
        assert pages == [3, 3, 3, 0]
        assert added == 2
        assert await queue.depth() == 9
        assert await queue.enqueue_missing(lost) == 0  # a second sweep adds nothing
        assert (await sweep.next_page()) == backlog[:3]  # and starts over from the oldest
    finally:
        await services.close()


@pytest.mark.parametrize("stuck_state", ["queued", "processing"])
async def test_sweep_takes_deliveries_stuck_past_the_job_timeout(backend, tmp_path, stuck_state):
    services = Services.build(backend.settings(tmp_path), backend.redis_url)
    try:
        [old] = await _received(services, 1, timedelta(hours=2))
        async with services.sessions.begin() as session:
            (await session.get(Delivery, old)).state = stuck_state
        sweep = OutboxSweep(services.engine, received_for=timedelta(seconds=5), stuck_for=timedelta(hours=1))
        assert await sweep.next_page() == [old]
        assert await OutboxSweep(services.engine, received_for=timedelta(seconds=5)).next_page() == []
    finally:
        await services.close()
