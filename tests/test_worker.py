"""Queued deliveries reach their handlers exactly once, through outages and crashes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import uuid

import pytest
from arq import Retry
from sqlalchemy import select

from bot.worker.deliveries import process_delivery
from bot.worker.retries import retry_delay
from handlers.context import Context
from handlers.router import EventRouter
from store.errors import TemporaryError
from store.models import Installation, Project, Team
from tests.conftest import payload_bytes, signed_headers
from tests.intake_harness import running
from tests.servers import RedisServer


class Recorder:
    """A router whose handlers count their runs, registered like any handler module."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, str]] = []
        self.router = EventRouter()

        @self.router.on("push")
        async def on_push(ctx: Context) -> None:
            self.runs.append(("push", ctx.delivery_id))

        @self.router.on("pull_request.opened", "pull_request.reopened")
        async def on_pr(ctx: Context) -> None:
            self.runs.append((ctx.key, ctx.delivery_id))


async def test_installation_created_creates_installation_team_and_projects(backend, tmp_path):
    body = payload_bytes("installation/created")
    delivery_id = str(uuid.uuid4())
    async with running(backend.settings(tmp_path)) as h:
        assert (await h.post(body, signed_headers(body, "installation", delivery_id))).status_code == 202
        await h.wait_for_job(delivery_id)
        await h.run_worker_until_idle()
        row = await h.wait_for_state(delivery_id, "done")
        assert row.handled == ["handlers.installation.on_installed"]
        async with h.services.sessions() as session:
            installation = await session.get(Installation, 957387)
            projects = (await session.scalars(select(Project))).all()
            teams = (await session.scalars(select(Team))).all()
    assert installation is not None and installation.account_login == "Codertocat"
    assert [(p.name, p.full_name, p.installation_id) for p in projects] == [
        ("hello-world", "Codertocat/Hello-World", 957387)
    ]
    assert [t.name for t in teams] == ["Codertocat"]


async def test_routing_by_event_and_action_and_unknown_events_ignored(backend, tmp_path):
    recorder = Recorder()
    sent = {
        "push": ("push", payload_bytes("push/with-new-branch")),
        "opened": ("pull_request", payload_bytes("pull_request/opened")),
        "closed": ("pull_request", payload_bytes("pull_request/closed")),
        "star": ("star", b'{"action": "created", "starred_at": null}'),
    }
    ids = {name: str(uuid.uuid4()) for name in sent}
    async with running(backend.settings(tmp_path), recorder.router) as h:
        for name, (event, body) in sent.items():
            assert (await h.post(body, signed_headers(body, event, ids[name]))).status_code == 202
        for delivery_id in ids.values():
            await h.wait_for_job(delivery_id)
        await h.run_worker_until_idle()
        states = {name: (await h.wait_for_state(ids[name], "done", "ignored")).state for name in ids}
    assert sorted(recorder.runs) == sorted([("push", ids["push"]), ("pull_request.opened", ids["opened"])])
    assert states == {"push": "done", "opened": "done", "closed": "ignored", "star": "ignored"}


async def test_redelivered_delivery_runs_its_handler_once(backend, tmp_path):
    recorder = Recorder()
    body = payload_bytes("push/with-new-branch")
    delivery_id = str(uuid.uuid4())
    async with running(backend.settings(tmp_path), recorder.router) as h:
        for _ in range(3):
            await h.post(body, signed_headers(body, "push", delivery_id))
        await h.wait_for_job(delivery_id)
        await h.run_worker_until_idle()
        await h.post(body, signed_headers(body, "push", delivery_id))
        # even a job for it enqueued again by hand changes nothing
        await (await h.services.queue()).enqueue_deliveries([delivery_id])
        await h.run_worker_until_idle()
    assert recorder.runs == [("push", delivery_id)]


async def test_transient_failure_is_retried_and_finished_handlers_are_not_rerun(backend, tmp_path):
    router = EventRouter()
    calls = {"steady": 0, "flaky": 0}

    @router.on("push")
    async def steady(ctx: Context) -> None:
        calls["steady"] += 1

    @router.on("push")
    async def flaky(ctx: Context) -> None:
        calls["flaky"] += 1
        if calls["flaky"] == 1:
            raise TemporaryError("GitHub answered 502")

    body = payload_bytes("push/with-new-branch")
    delivery_id = str(uuid.uuid4())
    async with running(backend.settings(tmp_path), router) as h:
        await h.post(body, signed_headers(body, "push", delivery_id))
        await h.wait_for_job(delivery_id)
        # arq defers the retry by retry_delay(1) = 2 s; burst mode waits for deferred jobs
        await h.run_worker_until_idle()
        row = await h.wait_for_state(delivery_id, "done")
    assert calls == {"steady": 1, "flaky": 2}
    assert row.attempts == 2


async def test_permanent_failure_is_recorded_and_other_handlers_still_run(backend, tmp_path):
    router = EventRouter()
    ran: list[str] = []

    @router.on("push")
    async def broken(ctx: Context) -> None:
        raise ValueError("config key 'run.port' must be a number")

    @router.on("push")
    async def fine(ctx: Context) -> None:
        ran.append(ctx.delivery_id)

    body = payload_bytes("push/with-new-branch")
    delivery_id = str(uuid.uuid4())
    async with running(backend.settings(tmp_path), router) as h:
        await h.post(body, signed_headers(body, "push", delivery_id))
        await h.wait_for_job(delivery_id)
        await h.run_worker_until_idle()
        row = await h.wait_for_state(delivery_id, "failed")
    assert ran == [delivery_id]
    assert "broken" in row.error and "run.port" in row.error
    assert row.attempts == 1


async def test_redis_down_at_intake_then_back_delivery_is_processed(backend, tmp_path):
    recorder = Recorder()
    redis_server = RedisServer().start()
    redis_server.stop()
    settings = backend.settings(tmp_path, redis_url=redis_server.url)
    body = payload_bytes("push/with-new-branch")
    delivery_id = str(uuid.uuid4())
    async with running(settings, recorder.router) as h:
        h.services.relay._sweep_every = 0.2
        from datetime import timedelta

        h.services.relay._sweep._received_for = timedelta(0)
        response = await h.post(body, signed_headers(body, "push", delivery_id))
        assert response.status_code == 202
        await asyncio.sleep(0.5)
        [row] = await h.deliveries()
        assert row.state == "received"
        redis_server.start()
        try:
            await h.wait_for_job(delivery_id)
            await h.run_worker_until_idle()
            await h.wait_for_state(delivery_id, "done")
        finally:
            redis_server.stop()
    assert recorder.runs == [("push", delivery_id)]


async def test_worker_start_sweeps_deliveries_the_relay_never_queued(backend, tmp_path):
    recorder = Recorder()
    body = payload_bytes("push/with-new-branch")
    delivery_id = str(uuid.uuid4())
    async with running(backend.settings(tmp_path), recorder.router, relay=False) as h:
        await h.post(body, signed_headers(body, "push", delivery_id))
        from datetime import timedelta

        from store.models import Delivery, utcnow

        async with h.services.sessions.begin() as session:
            row = await session.get(Delivery, delivery_id)
            row.received_at = utcnow() - timedelta(minutes=1)
        await h.run_worker_until_idle()
        await h.wait_for_state(delivery_id, "done")
    assert recorder.runs == [("push", delivery_id)]


WORKER_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from bot.services import Services
    from bot.settings import Settings
    from bot.worker.workers import make_worker
    from handlers.router import EventRouter

    router = EventRouter()

    @router.on("push")
    async def slow(ctx):
        Path(sys.argv[3]).write_text("started")
        if sys.argv[4] == "hang":
            await asyncio.sleep(600)
        Path(sys.argv[3]).write_text("finished")

    async def main():
        settings = Settings(data_dir=Path("."), database_url=sys.argv[1], redis_url=sys.argv[2],
                            webhook_secrets=("x",), secret_keys=("k",))
        services = Services.build(settings, sys.argv[2], router)
        # arq's worker binds to the loop running when it is made, so make it inside one; a
        # long-running worker with the real job timeout, as `autostack worker` runs: the killed
        # job comes back through its expired claim, not through arq's in-progress lock
        worker = make_worker(services, poll_delay=0.1)
        try:
            # async_run, not main: arq's SIGTERM handler stops the task it starts
            await worker.async_run()
        except asyncio.CancelledError:
            pass
        finally:
            await worker.close()
            await services.close()

    asyncio.run(main())
    """
)


async def test_worker_killed_mid_job_the_job_runs_again(backend, tmp_path):
    body = payload_bytes("push/with-new-branch")
    delivery_id = str(uuid.uuid4())
    marker = tmp_path / "marker"
    async with running(backend.settings(tmp_path)) as h:
        await h.post(body, signed_headers(body, "push", delivery_id))
        await h.wait_for_job(delivery_id)
        env = {**os.environ, "PYTHONPATH": os.getcwd()}
        args = [sys.executable, "-c", WORKER_SCRIPT, backend.database_url, backend.redis_url, str(marker)]
        doomed = subprocess.Popen([*args, "hang"], env=env)
        try:
            async with asyncio.timeout(60):
                while not marker.exists():
                    await asyncio.sleep(0.1)
        finally:
            doomed.send_signal(signal.SIGKILL)
            doomed.wait()
        assert (await h.wait_for_state(delivery_id, "processing")).attempts == 1
        # the dead job's claim expires (15 s) and the survivor's sweep (every 10 s) resumes it;
        # arq's own in-progress lock would hold the job for its 10-minute timeout
        survivor = subprocess.Popen([*args, "finish"], env=env)
        try:
            row = await h.wait_for_state(delivery_id, "done", timeout=60)
        finally:
            survivor.send_signal(signal.SIGTERM)
            await asyncio.to_thread(survivor.wait, 30)
        assert len(await h.deliveries()) == 1
    assert marker.read_text() == "finished"
    assert row.attempts == 2


@pytest.mark.parametrize(
    ("attempt", "retry_after", "expected"),
    [
        (1, None, 2.0),
        (3, None, 8.0),
        (12, None, 300.0),
        # a rate limit's reset: one retry just after it, not the 2, 4 … 128 s ladder
        (1, 1800.0, 1801.0),
        (5, 30.0, 31.0),
    ],
)
def test_retry_delay_waits_for_a_rate_limit_reset(attempt, retry_after, expected):
    assert retry_delay(attempt, retry_after) == expected


async def test_a_rate_limited_handler_is_deferred_until_the_reset(backend, tmp_path):
    router = EventRouter()

    @router.on("push")
    async def limited(ctx: Context) -> None:
        error = TemporaryError("GitHub's rate limit; try again in 1800 s")
        error.retry_after = 1800.0
        raise error

    body = payload_bytes("push/with-new-branch")
    delivery_id = str(uuid.uuid4())
    async with running(backend.settings(tmp_path), router) as h:
        await h.post(body, signed_headers(body, "push", delivery_id))
        await h.wait_for_job(delivery_id)
        services = h.services
        with pytest.raises(Retry) as caught:
            await process_delivery(services, delivery_id, job_try=1)
        row = await h.wait_for_state(delivery_id, "queued")
    assert caught.value.defer_score == 1801 * 1000
    assert row.attempts == 1 and "rate limit" in (row.error or "")
