"""The custom-domain check is the worker's cron job: once a minute, and once across workers."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.domains.dns import txt_value
from bot.services import Services
from bot.worker.crons import check_domains
from bot.worker.queue import DEPLOY_QUEUE
from bot.worker.workers import make_worker
from store.models import AuditEvent, Domain, Project
from tests.web.dns_server import dns_server


def _cron(worker):
    return next(job for job in worker.cron_jobs if job.coroutine is check_domains)


async def test_the_check_is_registered_unique_every_minute(sqlite_backend, tmp_path):
    services = Services.build(sqlite_backend.settings(tmp_path), sqlite_backend.redis_url)
    try:
        job = _cron(make_worker(services, handle_signals=False))
    finally:
        await services.close()
    assert job.unique and not job.run_at_startup
    # second 15 of every minute (arq's cron: unset fields match every value)
    assert (job.second, job.minute, job.hour, job.day) == (15, None, None, None)


async def test_two_workers_at_the_same_scheduled_time_check_once(backend, tmp_path):
    services = Services.build(backend.settings(tmp_path), backend.redis_url)
    async with services.sessions.begin() as session:
        project = Project(name="shop", full_name="octo-org/shop")
        session.add(project)
        await session.flush()
        session.add(Domain(project_id=project.id, hostname="www.example.com", token="tok"))
    try:
        with dns_server() as (zone, address):
            zone.records[("_autostack.www.example.com", "TXT")] = txt_value("tok")
            workers = [
                make_worker(services, burst=True, handle_signals=False, poll_delay=0.05, nameservers=address)
                for _ in range(2)
            ]
            try:
                for worker in workers:
                    # no cron job runs unless the test says so: near second 0 or 30 of the wall
                    # clock's minute the outbox sweep would run too and count as a job
                    for job in worker.cron_jobs:
                        job.next_run = datetime.now(tz=worker.timezone) + timedelta(hours=1)
                    await worker.main()  # connects and starts up; nothing is queued yet
                at = datetime.now(tz=workers[0].timezone)
                for worker in workers:
                    # both schedulers reach the same scheduled minute, as replicas do
                    _cron(worker).next_run = at
                    await worker.run_cron(at, 0.5)
                    _cron(worker).next_run = at + timedelta(hours=1)
                await asyncio.gather(*(worker.main() for worker in workers))
                ran = sum(worker.jobs_complete for worker in workers)
                queue = await services.queue()
                routing = [
                    (job.function, job.args) for job in await queue.redis.queued_jobs(queue_name=DEPLOY_QUEUE)
                ]
            finally:
                for worker in workers:
                    await worker.close()
        async with services.sessions() as session:
            domain = (await session.scalars(select(Domain))).one()
            events = (await session.scalars(select(AuditEvent))).all()
    finally:
        await services.close()
    assert ran == 1
    assert domain.state == "verified" and domain.last_error is None
    # the deploy worker, which holds the target, is asked to put it on the cluster's Ingress
    assert routing == [("refresh_domains", ("shop", "production"))]
    assert [(e.action, e.actor, e.target) for e in events] == [
        ("domain.verified", "autostack", "www.example.com")
    ]
