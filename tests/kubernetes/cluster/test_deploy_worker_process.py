"""The deploy worker as its own process on the kubernetes target: `autostack serve` with
AUTOSTACK_DEPLOYS_IN_WEB=0 leaves the deploy queue alone, `autostack worker --deploys` runs it."""

from __future__ import annotations

import asyncio
import time

import redis
from arq import create_pool
from arq.jobs import Job, JobStatus

from bot.worker.queue import DEPLOY_QUEUE, redis_settings
from store.migrate import upgrade
from tests.conftest import _fresh_postgres_database
from tests.kubernetes.cluster.conftest import KUBECONFIG, SOURCES_BUCKET
from tests.processes import autostack_env, run_cli, running

PORT = 49310


async def _enqueue(redis_url: str) -> str:
    pool = await create_pool(redis_settings(redis_url))
    try:
        job = await pool.enqueue_job("refresh_domains", "nope", "production", _queue_name=DEPLOY_QUEUE)
        assert job is not None
        return job.job_id
    finally:
        await pool.aclose()


async def _status(redis_url: str, job_id: str) -> tuple[JobStatus, object]:
    pool = await create_pool(redis_settings(redis_url))
    try:
        job = Job(job_id, pool, _queue_name=DEPLOY_QUEUE)
        status = await job.status()
        info = await job.result_info()
        return status, info.result if info else None
    finally:
        await pool.aclose()


def test_deploys_leave_the_web_tier_for_their_own_worker(tmp_path, pg_admin_url, redis_url_real, s3_url):
    redis.Redis.from_url(redis_url_real).flushdb()
    database_url = _fresh_postgres_database(pg_admin_url)
    upgrade(database_url)
    env = autostack_env(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url_real,
        AUTOSTACK_DATA_DIR=str(tmp_path / "data"),
        AUTOSTACK_TARGET="kubernetes",
        KUBECONFIG=str(KUBECONFIG),
        AWS_REGION="eu-west-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        SOURCES_BUCKET=SOURCES_BUCKET,
        AWS_ENDPOINT_URL_S3=s3_url,  # moto, never AWS
        APPS_DOMAIN="apps.example.com",
        PREVIEW_DOMAIN="preview.example.com",
        WEBHOOK_SECRET="whsec",
        SECRET_KEY="k" * 32,
        PORT=str(PORT),
        AUTOSTACK_DEPLOYS_IN_WEB="0",
    )
    job_id = asyncio.run(_enqueue(redis_url_real))
    with running("serve", env=env, log=tmp_path / "serve.log", ready_url=f"http://127.0.0.1:{PORT}/healthz"):
        time.sleep(3)  # the in-process deploy worker polls every 0.5 s: it would have taken the job
        assert asyncio.run(_status(redis_url_real, job_id))[0] == JobStatus.queued
    worker = run_cli("worker", "--deploys", "--burst", env=env)
    assert worker.returncode == 0, worker.stderr
    status, result = asyncio.run(_status(redis_url_real, job_id))
    assert status == JobStatus.complete
    assert isinstance(result, bool), result  # refresh_domains' answer, not an exception
