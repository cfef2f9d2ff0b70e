"""The outbox sweep: pages through stale deliveries and queues only those without a job."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from datetime import timedelta

import pytest

from bot.intake.relay import Relay
from bot.services import Services
from bot.settings import Settings
from bot.worker.queue import ArqQueue
from store import outbox
from store.migrate import upgrade
from store.models import Delivery, utcnow
from store.outbox import OutboxSweep
from tests.servers import RedisServer


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
    monkeypatch.setattr(outbox, "SWEEP_BATCH", 3)
    services = Services.build(backend.settings(tmp_path), backend.redis_url)
    try:
        queue = await services.queue()
        backlog = await _received(services, 7, timedelta(minutes=10))  # queued, no worker yet
        assert await queue.enqueue_deliveries(backlog) == 7
        lost = await _received(services, 2, timedelta(minutes=1))  # committed, never relayed
        await _received(services, 1, timedelta(0))  # too recent: the relay may still queue it

        sweep = OutboxSweep(services.sessions, received_for=timedelta(seconds=5))
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
        sweep = OutboxSweep(
            services.sessions, received_for=timedelta(seconds=5), stuck_for=timedelta(hours=1)
        )
        assert await sweep.next_page() == [old]
        assert await OutboxSweep(services.sessions, received_for=timedelta(seconds=5)).next_page() == []
    finally:
        await services.close()


async def test_an_idle_relay_waits_without_spinning(sqlite_backend, tmp_path):
    # once its start-up sweep is done, only a notification (or a Redis failure) wakes the relay:
    # it used to poll with a zero timeout, burning a whole core on an idle server
    services = Services.build(sqlite_backend.settings(tmp_path), sqlite_backend.redis_url)
    relay = Relay(services.sessions, lambda: ArqQueue.connect(sqlite_backend.redis_url), sweep_every=0.05)
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.3)  # the first sweep, and several sweep intervals, go by
        cpu_before = time.process_time()
        await asyncio.sleep(1.0)
        idle_cpu = time.process_time() - cpu_before
        assert idle_cpu < 0.3, f"the idle relay used {idle_cpu:.2f} s of CPU in 1 s"

        delivery_id = (await _received(services, 1, timedelta(0)))[0]
        relay.notify([delivery_id])
        queue = await services.queue()
        for _ in range(100):
            if await queue.depth() == 1:
                break
            await asyncio.sleep(0.02)
        assert await queue.depth() == 1
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await relay.close()
        await services.close()


async def test_after_a_redis_outage_the_relay_queues_the_whole_backlog_within_seconds(
    pg_admin_url, fresh_postgres_url, tmp_path, monkeypatch
):
    # the jobs of these deliveries were lost with Redis's data; the sweep used to take one page
    # per sweep interval (5 s), so three pages took over 10 s after Redis came back
    monkeypatch.setattr(outbox, "SWEEP_BATCH", 10)
    upgrade(fresh_postgres_url)
    redis_server = RedisServer().start()
    settings = Settings(
        data_dir=tmp_path,
        database_url=fresh_postgres_url,
        redis_url=redis_server.url,
        webhook_secrets=("unused",),
        secret_keys=("unused",),
    )
    services = Services.build(settings, redis_server.url)
    relay = Relay(services.sessions, lambda: ArqQueue.connect(redis_server.url))
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.5)  # the start-up sweep found nothing
        redis_server.stop()
        lost = await _received(services, 25, timedelta(seconds=10))
        fresh = await _received(services, 3, timedelta(0))
        relay.notify(fresh)  # committed while Redis is away
        await asyncio.sleep(3)
        redis_server.start()
        back = time.monotonic()
        queue = await ArqQueue.connect(redis_server.url)
        while await queue.depth() < len(lost) + len(fresh) and time.monotonic() - back < 10:
            await asyncio.sleep(0.05)
        took = time.monotonic() - back
        assert await queue.depth() == len(lost) + len(fresh)
        await queue.close()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await relay.close()
        await services.close()
        redis_server.stop()
    assert took < 2.5, f"{took:.1f} s from Redis's return until every delivery was queued"
