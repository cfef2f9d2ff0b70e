"""A cron tick runs once across replicas, even when one replica's loop lags behind another's."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import redis
from arq import create_pool
from arq.constants import default_queue_name
from arq.cron import CronJob
from arq.utils import to_unix_ms
from arq.worker import Worker

from bot.worker.queue import DEPLOY_QUEUE, redis_settings
from bot.worker.workers import make_deploy_worker, make_worker


def _crons(worker: Worker) -> dict[str, CronJob]:
    return {job.name: job for job in worker.cron_jobs}


def _replicas_crons(redis_url: str) -> dict[str, tuple[CronJob, str]]:
    """The crons the delivery and deploy workers schedule, with the queue each runs on."""
    services: Any = SimpleNamespace(redis_url=redis_url, settings=SimpleNamespace(cluster=object()))
    deliveries = _crons(make_worker(services, handle_signals=False))
    deploys = _crons(make_deploy_worker(services, runtime=None, handle_signals=False))  # type: ignore[arg-type]
    return {
        **{name: (job, default_queue_name) for name, job in deliveries.items()},
        **{name: (job, DEPLOY_QUEUE) for name, job in deploys.items()},
    }


@pytest.mark.parametrize(
    "name",
    [
        "cron:sweep_outbox",
        "cron:check_domains",
        "cron:sweep_deployments",
        "cron:reconcile_cluster",
        "cron:retention_cron",
    ],
)
async def test_a_tick_one_replica_finished_is_refused_to_a_lagging_one(redis_url_real: str, name: str):
    redis.Redis.from_url(redis_url_real).flushdb()
    job, queue = _replicas_crons(redis_url_real)[name]
    ran: list[str] = []

    async def count(ctx: dict[str, Any]) -> None:
        ran.append(ctx["job_id"])

    # the worker's own cron settings (uniqueness, what it keeps), with a job that only counts
    counted = dataclasses.replace(job, coroutine=count)
    pool = await create_pool(redis_settings(redis_url_real))
    try:
        due = datetime.now(UTC).replace(microsecond=0)
        tick = f"{name}:{to_unix_ms(due)}"
        # the first replica queues the tick as arq's cron loop does, and a worker runs it
        assert await pool.enqueue_job(name, _job_id=tick, _queue_name=queue) is not None
        await _run_until_idle(counted, queue, redis_url_real)
        assert ran.count(tick) == 1
        # a replica whose loop lagged queues the same tick after the run finished
        late = await pool.enqueue_job(name, _job_id=tick, _queue_name=queue)
        assert late is None, f"{name}: a finished tick was queued again"
        await _run_until_idle(counted, queue, redis_url_real)
    finally:
        await pool.aclose()
    assert ran.count(tick) == 1


async def _run_until_idle(job: CronJob, queue: str, redis_url: str) -> None:
    """One replica's worker, run until its queue is empty."""
    worker = Worker(
        functions=[],
        cron_jobs=[job],
        queue_name=queue,
        redis_settings=redis_settings(redis_url),
        burst=True,
        handle_signals=False,
        poll_delay=0.05,
    )
    try:
        await worker.main()
    finally:
        await worker.close()
