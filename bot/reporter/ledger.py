"""What GitHub has been told per deployment, and catch-up reports scheduled after a limit.

The reporter compares what a deployment should show now with what it last got through to
GitHub (a small signature per channel), and sends only what differs; a rate-limited send is
left for `report_deployment`, scheduled at the reset, which renders the latest state from
the store. `RedisLedger` is shared by every process; `MemoryLedger` lives in one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from handlers.jobs import REPORT_DEPLOYMENT, report_job_id

log = logging.getLogger("autostack.reporter")
PREFIX = "autostack:reported"
# Signatures outlive any deployment's reporting; then they only save a redundant call.
KEEP_SECONDS = 14 * 24 * 3600


class Ledger(Protocol):
    """Channel signatures by key, and catch-up scheduling."""

    async def get(self, key: str) -> dict[str, str]:
        """The signatures recorded under `key` (empty when none)."""
        ...

    async def put(self, key: str, **signatures: str) -> None:
        """Record what got through to GitHub."""
        ...

    async def schedule(self, deployment_id: int, after: float) -> None:
        """Run `report_deployment(deployment_id)` in `after` seconds (once per moment)."""
        ...


class MemoryLedger:
    """A ledger in this process: tests and processes without Redis; catch-ups are recorded."""

    def __init__(self) -> None:
        self._data: dict[str, dict[str, str]] = {}
        self.scheduled: list[tuple[int, float]] = []

    async def get(self, key: str) -> dict[str, str]:
        """The signatures recorded under `key` (empty when none)."""
        return dict(self._data.get(key, {}))

    async def put(self, key: str, **signatures: str) -> None:
        """Record what got through to GitHub."""
        self._data.setdefault(key, {}).update(signatures)

    async def schedule(self, deployment_id: int, after: float) -> None:
        """Remember that a catch-up was asked for (nothing runs it here)."""
        self.scheduled.append((deployment_id, after))


class RedisLedger:
    """A ledger in Redis, with catch-ups as deferred arq jobs on the deploy queue."""

    def __init__(self, queue: Callable[[], Awaitable[Any]], deploy_queue: str) -> None:
        self._queue = queue
        self._deploy_queue = deploy_queue

    async def _redis(self) -> Any:
        return (await self._queue()).redis

    async def get(self, key: str) -> dict[str, str]:
        """The signatures recorded under `key` (empty when none)."""
        raw = await (await self._redis()).hgetall(f"{PREFIX}:{key}")
        return {_text(name): _text(value) for name, value in raw.items()}

    async def put(self, key: str, **signatures: str) -> None:
        """Record what got through to GitHub."""
        redis = await self._redis()
        async with redis.pipeline(transaction=True) as pipe:
            pipe.hset(f"{PREFIX}:{key}", mapping=signatures)
            pipe.expire(f"{PREFIX}:{key}", KEEP_SECONDS)
            await pipe.execute()

    async def schedule(self, deployment_id: int, after: float) -> None:
        """Defer `report_deployment` to the reset; one job per deployment and second."""
        at = int(time.time() + after) + 1
        job = await (await self._redis()).enqueue_job(
            REPORT_DEPLOYMENT,
            deployment_id,
            _job_id=report_job_id(deployment_id, at),
            _queue_name=self._deploy_queue,
            _defer_until=datetime.fromtimestamp(at, UTC),
        )
        if job is not None:
            log.info("deployment %s: GitHub catches up in %.0f s", deployment_id, after)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
