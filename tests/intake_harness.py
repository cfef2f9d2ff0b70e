"""An AutoStack app running in-process for tests: intake, relay, and a way to run the worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from arq.constants import job_key_prefix, result_key_prefix
from sqlalchemy import select

from bot.app import AutoStackApp
from bot.services import Services
from bot.settings import Settings
from bot.worker.workers import make_worker
from handlers.router import EventRouter
from store.models import Delivery


@dataclass
class Harness:
    """The app, its services and an HTTP client talking to it."""

    app: AutoStackApp
    services: Services
    client: httpx.AsyncClient

    async def post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return await self.client.post(self.services.settings.webhook_path, content=body, headers=headers)

    async def deliveries(self) -> list[Delivery]:
        async with self.services.sessions() as session:
            return list((await session.scalars(select(Delivery).order_by(Delivery.received_at))).all())

    async def wait_for_state(self, delivery_id: str, *states: str, timeout: float = 10.0) -> Delivery:
        async with asyncio.timeout(timeout):
            while True:
                async with self.services.sessions() as session:
                    row = await session.get(Delivery, delivery_id)
                if row is not None and row.state in states:
                    return row
                await asyncio.sleep(0.05)

    async def wait_for_job(self, delivery_id: str, timeout: float = 10.0) -> None:
        """Wait until the relay has queued the delivery: its arq job (or, once run, its result)
        exists."""
        redis = (await self.services.queue()).redis
        async with asyncio.timeout(timeout):
            while not await redis.exists(job_key_prefix + delivery_id, result_key_prefix + delivery_id):
                await asyncio.sleep(0.05)

    async def run_worker_until_idle(self, **kwargs: Any) -> None:
        """Run an arq worker in burst mode: it stops once the queue is empty."""
        worker = make_worker(self.services, burst=True, handle_signals=False, poll_delay=0.05, **kwargs)
        try:
            await worker.main()
        finally:
            await worker.close()


@asynccontextmanager
async def running(
    settings: Settings, router: EventRouter | None = None, *, relay: bool = True
) -> AsyncIterator[Harness]:
    """Start the writer (and relay) and hand out a client bound to the app."""
    services = Services.build(settings, settings.redis_url or "", router)
    app = AutoStackApp(services, run_intake=False)
    services.start_intake(with_relay=relay)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://autostack.test") as client:
        try:
            yield Harness(app, services, client)
        finally:
            await services.close()
