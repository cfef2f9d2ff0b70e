"""Every job name declared once has a function the workers run under it, and no worker runs a
function under a name nobody declared (a job queued by a misspelt name would wait forever)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from arq.worker import Worker

from bot.worker.queue import DEPLOY_QUEUE, HANDLE_DELIVERY
from bot.worker.workers import make_deploy_worker, make_worker
from handlers.jobs import DEPLOY_JOBS


def _jobs(worker: Worker) -> set[str]:
    """The names the worker runs jobs under, crons aside (arq names those after their function)."""
    return {name for name in worker.functions if not name.startswith("cron:")}


# the tests are async: an arq Worker takes the running event loop when it is made
def _services() -> Any:
    return SimpleNamespace(redis_url="redis://127.0.0.1:24599", settings=SimpleNamespace(cluster=object()))


async def test_the_deploy_worker_runs_exactly_the_declared_deploy_jobs():
    worker = make_deploy_worker(_services(), runtime=None, handle_signals=False)  # type: ignore[arg-type]
    assert worker.queue_name == DEPLOY_QUEUE
    assert _jobs(worker) == DEPLOY_JOBS


async def test_the_delivery_worker_runs_exactly_the_delivery_job():
    assert _jobs(make_worker(_services(), handle_signals=False)) == {HANDLE_DELIVERY}
