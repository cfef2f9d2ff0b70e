"""The long-lived pieces one process shares: database, queue, writer, relay, metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from bot.deploy_stops import RedisStopSignals
from bot.github.api import GitHubApps
from bot.github.apps import SwitchableApps, github_apps, registered_app
from bot.github.budget_redis import RedisBudget
from bot.intake.group_commit import DeliveryWriter
from bot.intake.relay import Relay
from bot.metrics import Metrics
from bot.settings import Settings, require_secret_keys
from bot.worker.loops import LoopHealth
from bot.worker.queue import ArqQueue
from handlers import default_router
from handlers.permissions import PermissionCache
from handlers.router import EventRouter
from store.db import Engine, Sessions, create_engine, sessionmaker
from store.encryption import KeyRing

log = logging.getLogger("autostack.services")


@dataclass
class Services:
    """What web, relay and worker need, built once from the settings."""

    settings: Settings
    redis_url: str
    engine: Engine
    sessions: Sessions
    metrics: Metrics
    router: EventRouter
    writer: DeliveryWriter
    relay: Relay
    apps: SwitchableApps
    budget: RedisBudget
    keyring: KeyRing
    stops: RedisStopSignals  # a cancel or a supersede reaches the process running the deployment
    permissions: PermissionCache = field(default_factory=PermissionCache)
    health: LoopHealth = field(default_factory=LoopHealth)
    _queue: ArqQueue | None = None
    # many first uses at once would each open a connection pool, and all but one would leak
    _queue_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def build(
        cls, settings: Settings, redis_url: str, router: EventRouter | None = None, *, dry_run: bool = False
    ) -> Services:
        """Create the engine and the background pieces (not started yet)."""
        engine = create_engine(settings.database_url)
        sessions = sessionmaker(engine)
        health = LoopHealth()
        relay = Relay(sessions, lambda: ArqQueue.connect(redis_url), health=health)
        # every process of this AutoStack draws on one GitHub budget per installation
        budget = RedisBudget(redis_url)
        return cls(
            health=health,
            budget=budget,
            settings=settings,
            redis_url=redis_url,
            engine=engine,
            sessions=sessions,
            metrics=Metrics(),
            router=router or default_router(),
            writer=DeliveryWriter(sessions, on_committed=relay.notify),
            relay=relay,
            apps=SwitchableApps(github_apps(settings, dry_run=dry_run, budget=budget)),
            keyring=KeyRing(require_secret_keys(settings)),
            stops=RedisStopSignals(redis_url),
        )

    def use_app(self, app_id: int, private_key: str) -> GitHubApps:
        """Make GitHub calls as this App from now on (registered by the setup page); returns it."""
        self.apps.current = registered_app(app_id, private_key, self.settings.github_api_url, self.budget)
        return self.apps

    async def queue(self) -> ArqQueue:
        """The job queue, connected on first use (so start-up survives Redis being down)."""
        if self._queue is None:
            async with self._queue_lock:
                if self._queue is None:
                    self._queue = await ArqQueue.connect(self.redis_url)
        return self._queue

    def start_intake(self, *, with_relay: bool = True) -> None:
        """Start the group-commit writer (and the relay) as background tasks."""
        self._tasks.append(asyncio.create_task(self.writer.run(), name="delivery-writer"))
        if with_relay:
            self._tasks.append(asyncio.create_task(self.relay.run(), name="outbox-relay"))

    async def stop_intake(self) -> None:
        """Stop the writer and the relay."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def close(self) -> None:
        """Stop background tasks and close connections."""
        await self.stop_intake()
        await self.relay.close()
        if self._queue is not None:
            await self._queue.close()
            self._queue = None
        await self.budget.close()
        await self.stops.close()
        await self.engine.dispose()
