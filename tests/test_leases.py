"""Claims and leases: a live holder keeps its work, a dead one's work moves on in seconds."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.worker.crons import IN_PROGRESS_MS, sweep_outbox
from bot.worker.deliveries import process_delivery
from bot.worker.deploy_jobs import DeployRuntime
from bot.worker.workers import make_deploy_worker, make_worker
from handlers.context import Context
from handlers.router import EventRouter
from store.models import Delivery, Deployment, Environment, Project, utcnow
from store.outbox import OutboxSweep
from tests.conftest import payload_bytes, signed_headers
from tests.intake_harness import running


def _recording_router(runs: list[str]) -> EventRouter:
    router = EventRouter()

    @router.on("push")
    async def on_push(ctx: Context) -> None:
        runs.append(ctx.delivery_id)

    return router


async def _stored_push(h, delivery_id: str) -> None:  # type: ignore[no-untyped-def]
    body = payload_bytes("push/with-new-branch")
    assert (await h.post(body, signed_headers(body, "push", delivery_id))).status_code == 202


async def test_a_job_leaves_a_delivery_another_job_holds_and_takes_it_once_the_claim_expires(
    backend, tmp_path
):
    runs: list[str] = []
    delivery_id = str(uuid.uuid4())
    async with running(backend.settings(tmp_path), _recording_router(runs), relay=False) as h:
        await _stored_push(h, delivery_id)
        async with h.services.sessions.begin() as session:
            row = await session.get(Delivery, delivery_id)
            row.state, row.claimed_by = "processing", "job-of-a-live-worker"
            row.claim_expires_at = utcnow() + timedelta(seconds=15)
        assert await process_delivery(h.services, delivery_id, token="second-job") == "held"
        assert runs == []
        async with h.services.sessions.begin() as session:
            (await session.get(Delivery, delivery_id)).claim_expires_at = utcnow() - timedelta(seconds=1)
        assert await process_delivery(h.services, delivery_id, token="second-job") == "done"
        assert await process_delivery(h.services, delivery_id, token="third-job") == "done"
    assert runs == [delivery_id]


async def test_the_sweeper_resumes_a_dead_jobs_delivery_under_a_fresh_job_id(backend, tmp_path):
    runs: list[str] = []
    delivery_id = str(uuid.uuid4())
    async with running(backend.settings(tmp_path), _recording_router(runs), relay=False) as h:
        await _stored_push(h, delivery_id)
        queue = await h.services.queue()
        # the dead worker's job: still in arq's queue under the delivery id, locked in progress
        await queue.enqueue_deliveries([delivery_id])
        await queue.redis.set(f"arq:in-progress:{delivery_id}", b"1", px=600_000)
        async with h.services.sessions.begin() as session:
            row = await session.get(Delivery, delivery_id)
            row.state, row.attempts, row.claimed_by = "processing", 1, delivery_id
            row.claim_expires_at = utcnow() - timedelta(seconds=1)
        ctx = {
            "services": h.services,
            "outbox_sweep": OutboxSweep(h.services.sessions, received_for=timedelta(0)),
        }
        assert await sweep_outbox(ctx) == 1
        assert await sweep_outbox(ctx) == 0  # the resume job is queued once
        assert await queue.redis.exists(f"arq:job:{delivery_id}~1")
        # not a burst worker: the dead job's locked entry keeps the queue from ever being empty
        worker = make_worker(h.services, handle_signals=False, poll_delay=0.05)
        main = asyncio.create_task(worker.main())
        try:
            row = await h.wait_for_state(delivery_id, "done")
        finally:
            main.cancel()
            # awaited before close: a poll cut short otherwise still holds a pipeline
            await asyncio.gather(main, return_exceptions=True)
            await worker.close()
    assert runs == [delivery_id]
    assert row.attempts == 2


@pytest.mark.parametrize(("locked_for", "resumed"), [(20.0, True), (2.0, False)])
async def test_the_sweeper_resumes_a_job_whose_worker_died_before_it_claimed_the_delivery(
    backend, tmp_path, locked_for, resumed
):
    runs: list[str] = []
    delivery_id = str(uuid.uuid4())
    async with running(backend.settings(tmp_path), _recording_router(runs), relay=False) as h:
        await _stored_push(h, delivery_id)
        queue = await h.services.queue()
        # a worker took the job (arq's 610 s in-progress lock) and died before claiming: the
        # delivery is still "received", its job queued and locked
        await queue.enqueue_deliveries([delivery_id])
        await queue.redis.set(f"arq:in-progress:{delivery_id}", b"1", px=int((610 - locked_for) * 1000))
        ctx = {
            "services": h.services,
            "outbox_sweep": OutboxSweep(h.services.sessions, received_for=timedelta(0)),
            IN_PROGRESS_MS: 610_000,
        }
        # locked for longer than a claim's lease: dead; locked a moment ago: a live worker's
        assert await sweep_outbox(ctx) == (1 if resumed else 0)
        assert bool(await queue.redis.exists(f"arq:job:{delivery_id}~0")) is resumed
        if resumed:
            worker = make_worker(h.services, handle_signals=False, poll_delay=0.05)
            main = asyncio.create_task(worker.main())
            try:
                row = await h.wait_for_state(delivery_id, "done")
            finally:
                main.cancel()
                # awaited before close: a poll cut short otherwise still holds a pipeline
                await asyncio.gather(main, return_exceptions=True)
                await worker.close()
            assert row.attempts == 1
    assert runs == ([delivery_id] if resumed else [])


async def test_the_sweeper_requeues_a_delivery_whose_job_failed_on_an_outage(backend, tmp_path):
    runs: list[str] = []
    delivery_id = str(uuid.uuid4())
    async with running(backend.settings(tmp_path), _recording_router(runs), relay=False) as h:
        await _stored_push(h, delivery_id)
        queue = await h.services.queue()
        # what arq keeps for an hour after a job failed on a database error
        await queue.redis.set(f"arq:result:{delivery_id}", b"failed", px=3_600_000)
        async with h.services.sessions.begin() as session:
            (await session.get(Delivery, delivery_id)).received_at = utcnow() - timedelta(minutes=1)
        ctx = {
            "services": h.services,
            "outbox_sweep": OutboxSweep(h.services.sessions, received_for=timedelta(0)),
        }
        assert await sweep_outbox(ctx) == 1
        await h.run_worker_until_idle()
        await h.wait_for_state(delivery_id, "done")
    assert runs == [delivery_id]


async def _deployment(sessions, state: str, owner: str | None, expires_in: float | None) -> int:  # type: ignore[no-untyped-def]
    async with sessions.begin() as session:
        project = Project(name=f"p{uuid.uuid4().hex[:8]}")
        session.add(project)
        await session.flush()
        environment = Environment(project_id=project.id, name="production", kind="production")
        session.add(environment)
        await session.flush()
        deployment = Deployment(
            project_id=project.id,
            environment_id=environment.id,
            environment="production",
            state=state,
            trigger="cli",
            claimed_by=owner,
            lease_expires_at=utcnow() + timedelta(seconds=expires_in) if expires_in is not None else None,
        )
        session.add(deployment)
        await session.flush()
        return deployment.id


class _Hub:
    def __init__(self) -> None:
        self.events: list[object] = []

    async def emit(self, event: object) -> None:
        self.events.append(event)


async def test_a_starting_deploy_worker_fails_only_deployments_whose_lease_expired(backend, tmp_path):
    async with running(backend.settings(tmp_path), relay=False) as h:
        live = await _deployment(h.services.sessions, "building", "other-replica:1:abc", 15)
        dead = await _deployment(h.services.sessions, "deploying", "dead-replica:2:def", -1)
        legacy = await _deployment(h.services.sessions, "building", None, None)
        hub = _Hub()
        runtime = DeployRuntime(target=None, work_dir=tmp_path / "work", hub=hub)  # type: ignore[arg-type]
        worker = make_deploy_worker(h.services, runtime, burst=True, handle_signals=False, poll_delay=0.05)
        try:
            await worker.main()
        finally:
            await worker.close()
        async with h.services.sessions() as session:
            states = dict((await session.execute(select(Deployment.id, Deployment.state))).all())
    assert states == {live: "building", dead: "failed", legacy: "failed"}
    assert sorted(e.deployment_id for e in hub.events) == sorted([dead, legacy])  # type: ignore[attr-defined]


async def test_many_first_uses_of_the_queue_open_one_connection(sqlite_backend, tmp_path):
    async with running(sqlite_backend.settings(tmp_path), relay=False) as h:
        queues = await asyncio.gather(*(h.services.queue() for _ in range(20)))
    assert len({id(q) for q in queues}) == 1
