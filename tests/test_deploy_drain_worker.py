"""`autostack worker --deploys` on SIGTERM: the supervised arq worker takes no new job, lets the
running one finish within the grace period, and a job still running at the deadline (or at a
second signal) is cancelled with the cut-off flag set, so its deployment is left to its lease."""

from __future__ import annotations

import asyncio
import os
import signal
from types import SimpleNamespace
from typing import Any

from arq import create_pool, func
from arq.worker import Worker

from bot.worker.drain import DeployDrain, run_until_drained
from bot.worker.loops import LoopHealth, supervise
from bot.worker.queue import redis_settings

QUEUE = "test:drain"


async def _drained(redis_url: str, *, job_seconds: float, grace: float, signals: int = 1) -> dict[str, Any]:
    """Queue two jobs, send SIGTERM (`signals` times) while the first runs; what happened."""
    seen: dict[str, Any] = {"started": [], "finished": [], "cut_off_when_cancelled": None}
    runtime = SimpleNamespace(cut_off=asyncio.Event())

    async def job(_ctx: dict[str, Any], name: str) -> None:
        seen["started"].append(name)
        try:
            await asyncio.sleep(job_seconds)
        except asyncio.CancelledError:
            seen["cut_off_when_cancelled"] = runtime.cut_off.is_set()
            raise
        seen["finished"].append(name)

    pool = await create_pool(redis_settings(redis_url))
    try:
        await pool.enqueue_job("job", "first", _queue_name=QUEUE)
        drain = DeployDrain(runtime, grace)  # type: ignore[arg-type]

        def make() -> Worker:
            return Worker(
                functions=[func(job, name="job")],
                queue_name=QUEUE,
                redis_settings=redis_settings(redis_url),
                handle_signals=False,
                max_jobs=1,
                poll_delay=0.05,
                ctx={},
            )

        running = asyncio.create_task(
            run_until_drained(lambda: supervise("deploy-worker", drain.track(make), LoopHealth()), drain)
        )
        async with asyncio.timeout(10):
            while not seen["started"]:
                await asyncio.sleep(0.02)
        await pool.enqueue_job("job", "second", _queue_name=QUEUE)
        for _ in range(signals):
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.sleep(0.1)
        async with asyncio.timeout(job_seconds + grace + 10):
            await running
        seen["still_queued"] = await pool.zcard(QUEUE)
    finally:
        await pool.aclose()
    return seen


async def test_a_running_job_finishes_and_no_new_one_starts(sqlite_backend):
    seen = await _drained(sqlite_backend.redis_url, job_seconds=1.5, grace=30)
    assert seen["started"] == ["first"] and seen["finished"] == ["first"]
    assert seen["still_queued"] == 1  # the second job waits for another replica


async def test_a_job_still_running_at_the_deadline_is_cut_off_for_its_lease(sqlite_backend):
    seen = await _drained(sqlite_backend.redis_url, job_seconds=30, grace=0.5)
    assert seen["finished"] == [] and seen["cut_off_when_cancelled"] is True


async def test_a_second_signal_cuts_the_drain_short(sqlite_backend):
    seen = await _drained(sqlite_backend.redis_url, job_seconds=30, grace=60, signals=2)
    assert seen["finished"] == [] and seen["cut_off_when_cancelled"] is True
