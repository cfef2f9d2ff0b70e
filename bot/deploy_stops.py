"""The deployer's stop signals between processes, over Redis pub/sub (both backends have a
Redis: the external one, or the private one embedded `serve` starts).

The page that cancels a deployment and the deploy worker that runs it may be different
processes; each holds one `RedisStopSignals`. A signal is a deployment id published on one
channel; every process subscribed hears it and wakes its own watchers of that id. Nothing is
kept: a process that was not subscribed (Redis down, reconnecting) misses the signal, and its
run notices the stop at its next poll of the database (deployer.stops).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.exceptions import RedisError

from deployer.stops import ProcessStops

log = logging.getLogger("autostack.deploy")
CHANNEL = "autostack:deployment-stops"
RECONNECT_SECONDS = 1.0


class RedisStopSignals:
    """StopSignals for every process sharing one Redis."""

    def __init__(self, redis_url: str) -> None:
        self._url = redis_url
        self._here = ProcessStops()
        self._publisher: Redis | None = None
        self._listener: asyncio.Task[None] | None = None

    async def notify(self, deployment_id: int) -> None:
        """Publish the deployment's stop; a Redis failure is logged, not raised (the run still
        stops at its next poll)."""
        if self._publisher is None:
            self._publisher = Redis.from_url(self._url)
        try:
            await self._publisher.publish(CHANNEL, str(deployment_id))
        except (RedisError, OSError) as exc:
            log.warning(
                "could not signal deployment %s to stop over Redis (%s); its run stops at its next poll",
                deployment_id,
                exc,
                extra={"deployment_id": deployment_id},
            )

    @contextlib.asynccontextmanager
    async def watch(self, deployment_id: int) -> AsyncIterator[asyncio.Event]:
        """An event set each time any process signals the deployment while the block runs."""
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen(), name="deployment-stop-signals")
        async with self._here.watch(deployment_id) as signalled:
            yield signalled

    async def _listen(self) -> None:
        """Hand each published stop to this process's watchers; subscribe again after an outage."""
        outage = False
        while True:
            client = Redis.from_url(self._url)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                if outage:
                    log.info("listening for deployment stop signals again")
                    outage = False
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        self._deliver(message["data"])
            except (RedisError, OSError) as exc:
                if not outage:
                    log.warning(
                        "not listening for deployment stop signals (%s); runs stop at their next poll", exc
                    )
                    outage = True
            finally:
                await pubsub.aclose()
                await client.aclose()
            await asyncio.sleep(RECONNECT_SECONDS)

    def _deliver(self, data: bytes) -> None:
        try:
            deployment_id = int(data)
        except ValueError:
            log.warning("ignored a deployment stop signal that names no deployment: %r", data[:40])
            return
        self._here.deliver(deployment_id)

    async def close(self) -> None:
        """Stop listening and close the connections."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        if self._publisher is not None:
            await self._publisher.aclose()
            self._publisher = None
