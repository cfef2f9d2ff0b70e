"""The delivery reconciler end to end: GitHub's delivery log in the stand-in, AutoStack's intake
on a real port for the redeliveries, the worker processing them; on both backends."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
import uvicorn
from sqlalchemy import select

from bot.services import Services
from bot.worker.redeliver import reconcile, reconcile_deliveries
from bot.worker.workers import make_worker
from store.models import AuditEvent, HookRedelivery, Installation, Team
from tests.conftest import SECRET, Backend, signed_headers
from tests.github_standin.fixtures import APP_ID, AppKeys
from tests.github_standin.hook_deliveries import record_attempt, redeliveries
from tests.github_standin.server import StandInServer
from tests.github_standin.state import State
from tests.intake_harness import Harness, running

WINDOW = timedelta(hours=72)
NOW = timedelta(0)  # tests run the reconciler back to back: no interval between runs
DAY = 86400


def star(number: int, installation: int | None = None) -> bytes:
    body: dict[str, object] = {"action": "created", "starred_at": None, "n": number}
    if installation is not None:
        body["installation"] = {"id": installation}
    return json.dumps(body).encode()


@asynccontextmanager
async def serving(harness: Harness) -> AsyncIterator[str]:
    """AutoStack's app on a loopback port, in this event loop, for the stand-in to redeliver to."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(harness.app, lifespan="off", log_level="warning", access_log=False, ws="none")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}{harness.services.settings.webhook_path}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
async def autostack(
    backend: Backend,
    tmp_path,
    github_standin: State,
    github_standin_server: StandInServer,
    github_app_keys: AppKeys,
) -> AsyncIterator[Harness]:
    settings = backend.settings(
        tmp_path,
        app_id=APP_ID,
        private_key=github_app_keys.private_pem,
        github_api_url=github_standin_server.url,
    )
    async with running(settings) as harness, serving(harness) as url:
        github_standin.webhook_url, github_standin.webhook_secret = url, SECRET
        yield harness


async def run(harness: Harness):
    hooks = harness.services.apps.hook_deliveries()
    assert hooks is not None
    return await reconcile(harness.services.sessions, hooks, interval=NOW, window=WINDOW)


def asked(github: State) -> list[str]:
    return [call.path.split("/")[4] for call in github.calls_to("POST", "/attempts$")]


async def wait_redelivered(github: State, guids: list[str]) -> list[dict]:
    """The redelivery attempts of these guids, once each has one (or after 10 s)."""
    deadline = time.monotonic() + 10
    while True:
        found = [a for a in redeliveries(github) if a["guid"] in guids]
        if len(found) >= len(guids) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def test_lost_deliveries_are_redelivered_once_and_processed(autostack: Harness, github_standin: State):
    github, now = github_standin, time.time()
    async with autostack.services.sessions.begin() as session:
        session.add(Installation(id=1, account_login="octo-org"))
        await session.flush()
        session.add(Team(installation_id=1, name="octo-org"))
    # lost: failed and never stored (one failed twice; the oldest sits past the first page)
    lost_old = record_attempt(github, "star", star(1), status_code=503, delivered_at=now - 2 * DAY)
    twice = record_attempt(github, "star", star(2, installation=1), status_code=503, delivered_at=now - 3600)
    twice_again = record_attempt(
        github, "star", star(2, installation=1), status_code=502, guid=twice["guid"], delivered_at=now - 3000
    )
    lost_new = record_attempt(github, "star", star(3), status_code=0, delivered_at=now - 60)
    # failed, then a later attempt succeeded: skipped
    recovered = record_attempt(github, "star", star(4), status_code=503, delivered_at=now - 1800)
    record_attempt(
        github,
        "star",
        star(4),
        status_code=202,
        guid=recovered["guid"],
        redelivery=True,
        delivered_at=now - 1700,
    )
    # failed at GitHub's end but stored here (the answer was lost on the way back): skipped
    stored = record_attempt(github, "star", star(5), status_code=504, delivered_at=now - 1200)
    response = await autostack.post(star(5), signed_headers(star(5), "star", stored["guid"]))
    assert response.status_code in (200, 202)
    # OK deliveries, enough for two pages
    for i in range(120):
        record_attempt(github, "star", star(100 + i), status_code=202, delivered_at=now - 2 * DAY + 60 + i)
    # failed, but older than the window: ignored
    record_attempt(github, "star", star(6), status_code=503, delivered_at=now - 4 * DAY)

    first = await run(autostack)

    expected = [lost_old["id"], twice_again["id"], lost_new["id"]]
    assert first is not None and first.outcome == "done"
    assert asked(github) == [str(i) for i in expected]
    assert len(github.calls_to("GET", "/app/hook/deliveries$")) == 2  # >100 entries: the cursor was followed
    guids = [lost_old["guid"], twice["guid"], lost_new["guid"]]
    arrived = await wait_redelivered(github, guids)
    assert sorted((a["guid"], a["status_code"]) for a in arrived) == sorted((g, 202) for g in guids)

    await autostack.run_worker_until_idle()
    for guid in guids:
        row = await autostack.wait_for_state(guid, "done", "ignored")
        assert row.event == "star"

    second = await run(autostack)
    assert second is not None and second.outcome == "done" and second.requested == []
    assert asked(github) == [str(i) for i in expected]  # nothing asked again

    async with autostack.services.sessions() as session:
        states = dict((await session.execute(select(HookRedelivery.guid, HookRedelivery.state))).all())
        audits = (await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all()
    assert states == dict.fromkeys(guids, "requested")
    team_id = await _team_id(autostack)
    # one entry for the team whose installation it was, one for the deliveries of no team
    assert {a.team_id: (a.action, a.details["deliveries"]) for a in audits} == {
        team_id: ("webhook.redelivery_requested", [twice["guid"]]),
        None: ("webhook.redelivery_requested", [lost_old["guid"], lost_new["guid"]]),
    }
    metrics = (await autostack.client.get("/metrics")).text
    assert "autostack_redeliveries_requested_total 3.0" in metrics
    assert 'autostack_reconciler_runs_total{outcome="done"} 2.0' in metrics


async def _team_id(harness: Harness) -> int:
    async with harness.services.sessions() as session:
        return (await session.scalars(select(Team.id))).one()


async def test_two_concurrent_runs_ask_once(autostack: Harness, github_standin: State):
    lost = [record_attempt(github_standin, "star", star(i), status_code=503) for i in range(5)]
    hooks = autostack.services.apps.hook_deliveries()
    assert hooks is not None
    runs = await asyncio.gather(
        *(
            reconcile(autostack.services.sessions, hooks, interval=timedelta(minutes=5), window=WINDOW)
            for _ in range(2)
        )
    )
    assert sorted(r is None for r in runs) == [False, True]
    assert sorted(asked(github_standin)) == sorted(str(e["id"]) for e in lost)
    # and within the interval a later run does not start at all
    assert (
        await reconcile(autostack.services.sessions, hooks, interval=timedelta(minutes=5), window=WINDOW)
        is None
    )
    await wait_redelivered(github_standin, [e["guid"] for e in lost])


async def test_a_later_run_reads_back_only_to_where_the_last_one_finished(
    autostack: Harness, github_standin: State
):
    now = time.time()
    for i in range(150):
        record_attempt(github_standin, "star", star(i), status_code=202, delivered_at=now - DAY + 60 * i)
    await run(autostack)
    assert len(github_standin.calls_to("GET", "/app/hook/deliveries$")) == 2
    fresh = record_attempt(github_standin, "star", star(999), status_code=503)
    github_standin.calls.clear()
    later = await run(autostack)
    assert later is not None and later.requested == [fresh["guid"]]
    # back to the first run's newest entry less the 10 minutes' overlap: one page, not two
    [listing] = github_standin.calls_to("GET", "/app/hook/deliveries$")
    assert "cursor" not in listing.query
    await wait_redelivered(github_standin, [fresh["guid"]])


async def test_github_outages_defer_and_refusals_are_final(autostack: Harness, github_standin: State):
    github = github_standin
    first = record_attempt(github, "star", star(1), status_code=503, delivered_at=time.time() - 100)
    second = record_attempt(github, "star", star(2), status_code=503)
    github.fail_next("GET", "/app/hook/deliveries$", 503, message="Service unavailable", times=2)
    assert (await run(autostack)).outcome == "deferred"
    assert asked(github) == []
    # the first redelivery is refused for good, the second hits an outage: asked again next run
    github.fail_next("POST", f"/{first['id']}/attempts$", 422, message="Validation Failed")
    github.fail_next("POST", f"/{second['id']}/attempts$", 502, message="Bad gateway", times=2)
    deferred = await run(autostack)
    assert (deferred.outcome, deferred.refused, deferred.requested) == ("deferred", [first["guid"]], [])
    done = await run(autostack)
    assert (done.outcome, done.requested) == ("done", [second["guid"]])
    assert asked(github).count(str(first["id"])) == 1
    await wait_redelivered(github, [second["guid"]])
    metrics = (await autostack.client.get("/metrics")).text
    for line in (
        'autostack_reconciler_runs_total{outcome="deferred"} 2.0',
        'autostack_reconciler_runs_total{outcome="done"} 1.0',
        "autostack_redeliveries_refused_total 1.0",
        "autostack_redeliveries_requested_total 1.0",
    ):
        assert line in metrics


async def test_an_app_github_does_not_know_ends_quietly(
    sqlite_backend: Backend, tmp_path, github_standin: State, github_standin_server: StandInServer
):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    settings = sqlite_backend.settings(
        tmp_path, app_id=APP_ID, private_key=other.decode(), github_api_url=github_standin_server.url
    )
    record_attempt(github_standin, "star", star(1), status_code=503)
    async with running(settings) as harness:
        result = await run(harness)
    assert result is not None and result.outcome == "no_app"
    assert asked(github_standin) == []
    assert [c.status for c in github_standin.calls_to("GET", "/app/hook/deliveries$")] == [401]


async def test_the_cron_needs_an_app_and_a_non_zero_interval(sqlite_backend: Backend, tmp_path):
    settings = sqlite_backend.settings(tmp_path)
    async with running(settings) as harness:
        assert await reconcile_deliveries({"services": harness.services}) == "no_app"
        harness.services.settings = dataclasses.replace(settings, redeliver_interval=0)
        assert await reconcile_deliveries({"services": harness.services}) == "off"


async def test_long_running_workers_schedule_the_reconciler_once_across_workers(
    sqlite_backend: Backend, tmp_path
):
    services = Services.build(sqlite_backend.settings(tmp_path), sqlite_backend.redis_url)
    try:
        crons = {job.name: job for job in make_worker(services, handle_signals=False).cron_jobs}
        burst = {job.name for job in make_worker(services, burst=True, handle_signals=False).cron_jobs}
    finally:
        await services.close()
    job = crons["cron:reconcile_deliveries"]
    assert (job.unique, job.run_at_startup) == (True, True)
    assert "cron:reconcile_deliveries" not in burst
