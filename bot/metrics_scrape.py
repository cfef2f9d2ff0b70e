"""Bring the metrics read at scrape time up to date: queue backlogs and the GitHub budget
from Redis, deployments, outbox and reconcilers from the database. Serve's `/metrics` and the
workers' metrics endpoint both call `refresh` before rendering."""

from __future__ import annotations

import asyncio
import contextlib

from arq.constants import default_queue_name
from redis.exceptions import RedisError

from bot.services import Services
from bot.worker.queue import DEPLOY_QUEUE
from store.metric_counts import stored_figures

# the queue label values: what each queue carries, not arq's key names
QUEUES = {"deliveries": default_queue_name, "deploys": DEPLOY_QUEUE}
SCRAPE_TIMEOUT = 2.0


async def refresh(services: Services) -> None:
    """Read the scrape-time figures; a source that does not answer keeps its last values."""
    metrics = services.metrics
    with contextlib.suppress(RedisError, OSError, TimeoutError):
        async with asyncio.timeout(SCRAPE_TIMEOUT):
            queue = await services.queue()
            for label, name in QUEUES.items():
                depth, oldest = await queue.backlog(name)
                metrics.queue_depth.labels(label).set(depth)
                metrics.queue_oldest.labels(label).set(oldest)
            metrics.stored.budget = await services.budget.remaining()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(SCRAPE_TIMEOUT):
            figures = await stored_figures(services.sessions)
        if figures is not None:
            metrics.outbox_pending.set(figures.outbox_pending)
            metrics.reconciler.counts = figures.delivery_reconciler
            metrics.stored.deployments = figures.deployments
            metrics.stored.cluster_actions = figures.cluster_reconciler
